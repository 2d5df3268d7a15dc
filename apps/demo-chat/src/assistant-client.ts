/**
 * Calls the assistant upstream through a @perf/resilience breaker: per-attempt timeout, one jittered
 * retry, and a fallback reply when it fails or the circuit is open (so an outage is never a 5xx).
 * Calls go out through @perf/tracing's propagatingFetch: the upstream continues the trace and sees
 * the request's correlation id.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { BreakerStateEvent } from '@perf/core';
import type { BreakerSync } from '@perf/resilience';
import { createCircuitBreaker, type ResilientCircuitBreaker } from '@perf/resilience';
import { propagatingFetch } from '@perf/tracing';
import type { Message } from './models.js';

export interface AssistantAnswer {
  text: string;
  /** True when the breaker's fallback answered instead of the upstream. */
  fallback: boolean;
  /** Why, when it is a fallback: open, failure, timeout, ... */
  reason?: string;
}

export const FALLBACK_TEXT =
  'The assistant is busy right now; your message is saved and you can ask again shortly.';

class UpstreamHttpError extends Error {
  constructor(readonly status: number) {
    super(`assistant upstream answered ${status}`);
    this.name = 'UpstreamHttpError';
  }
}

export interface AssistantClientOptions {
  url: string;
  timeoutMs: number;
  halfOpenAfterMs: number;
  sync?: BreakerSync | undefined;
}

export class AssistantClient {
  readonly breaker: ResilientCircuitBreaker;
  /** Breaker state changes seen by this instance, oldest first (for the summary). */
  readonly transitions: Array<{ at: number; from: string; to: string }> = [];
  readonly #url: string;
  readonly #fetch = propagatingFetch();
  readonly #onState = (message: unknown) => {
    const e = message as BreakerStateEvent;
    if (e.name !== 'assistant') return;
    this.transitions.push({ at: Date.now(), from: e.from, to: e.to });
    if (this.transitions.length > 1000) this.transitions.shift();
  };

  constructor(o: AssistantClientOptions) {
    this.#url = o.url;
    this.breaker = createCircuitBreaker({
      name: 'assistant',
      failureThreshold: 5,
      halfOpenAfterMs: o.halfOpenAfterMs,
      timeoutMs: o.timeoutMs,
      // Only the upstream's own failures count: a 4xx is our bug, not its outage.
      errorFilter: (e) => !(e instanceof UpstreamHttpError && e.status < 500),
      retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 200 },
      fallback: (_error, info): AssistantAnswer => ({
        text: FALLBACK_TEXT,
        fallback: true,
        reason: info.reason,
      }),
      ...(o.sync ? { sync: o.sync } : {}),
    });
    diagnosticsChannel.subscribe('perf:breaker:state', this.#onState);
  }

  /** The assistant's reply to the conversation so far (or the fallback reply). */
  async reply(history: readonly Message[], signal?: AbortSignal): Promise<AssistantAnswer> {
    const answer = await this.breaker.execute(
      async (attemptSignal) => {
        // traceparent, baggage and x-correlation-id come from the request's context.
        const res = await this.#fetch(`${this.#url}/v1/reply`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: history.map((m) => ({ author: m.author, text: m.text })) }),
          signal: attemptSignal,
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new UpstreamHttpError(res.status);
        }
        const body = (await res.json()) as { text?: unknown };
        if (typeof body.text !== 'string') throw new UpstreamHttpError(502);
        return { text: body.text, fallback: false } satisfies AssistantAnswer;
      },
      signal ? { signal } : undefined,
    );
    return answer as AssistantAnswer;
  }

  close(): void {
    diagnosticsChannel.unsubscribe('perf:breaker:state', this.#onState);
    this.breaker.close();
  }
}
