/**
 * Webhook notifier: POSTs each notification as JSON (Alertmanager webhook shape), one at a time,
 * retrying network errors, 429 and 5xx with exponential backoff; a bounded queue drops the oldest
 * notification when full (counted in `stats().dropped`).
 */
import {
  type Clock,
  checkOptions,
  is,
  optional,
  PerfConfigError,
  systemClock,
  type TimerHandle,
  withDefault,
} from '@perf/core';
import type { AlertNotification, AlertNotifier } from './alert-notifier.js';

export interface WebhookNotifierOptions {
  url: string;
  /** Extra request headers, e.g. an authorization header. */
  headers?: Record<string, string>;
  /** Per-attempt timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** Attempts after the first. Default 3. */
  retries?: number;
  /** First backoff; doubles each retry. Default 500 ms. */
  backoffMs?: number;
  /** Backoff cap. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Notifications waiting to be sent; the oldest is dropped past this. Default 100. */
  maxQueue?: number;
  clock?: Clock;
  /** The fetch to use. Default the global `fetch`. */
  fetch?: typeof fetch;
}

export interface WebhookNotifierStats {
  sent: number;
  /** Notifications given up on after every retry (or a non-retryable status). */
  failed: number;
  /** Notifications dropped because the queue was full. */
  dropped: number;
  retries: number;
  queued: number;
}

export interface WebhookNotifier extends AlertNotifier {
  stats(): WebhookNotifierStats;
  /** Resolves when the queue is empty and nothing is in flight. */
  idle(): Promise<void>;
  close(): void;
}

/**
 * Creates a webhook notifier.
 * @throws {PerfConfigError} for a bad option (e.g. `url` not http(s)).
 */
export function webhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  const o = checkOptions('webhookNotifier', options, {
    url: (v, ctx) => {
      if (typeof v === 'string' && /^https?:\/\/./.test(v)) return v;
      throw new PerfConfigError(ctx.field, 'must be an http(s) URL', v, { owner: ctx.owner });
    },
    headers: withDefault(is.plainObject, {} as Record<string, unknown>),
    timeoutMs: withDefault(is.positiveNumber, 5000),
    retries: withDefault(is.nonNegativeInteger, 3),
    backoffMs: withDefault(is.positiveNumber, 500),
    maxBackoffMs: withDefault(is.positiveNumber, 30_000),
    maxQueue: withDefault(is.positiveInteger, 100),
    clock: withDefault((v, ctx) => {
      if (typeof (v as Clock | null)?.now === 'function' && typeof (v as Clock).setTimeout === 'function')
        return v as Clock;
      throw new PerfConfigError(ctx.field, 'must be a Clock', v, { owner: ctx.owner });
    }, systemClock),
    fetch: optional(is.function),
  });
  const doFetch = (o.fetch as typeof fetch | undefined) ?? globalThis.fetch;
  const queue: AlertNotification[] = [];
  const stats = { sent: 0, failed: 0, dropped: 0, retries: 0 };
  let busy = false;
  let closed = false;
  let timer: TimerHandle | undefined;
  let inflight: AbortController | undefined;
  let idleWaiters: Array<() => void> = [];

  const settleIdle = () => {
    if (!busy && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const attempt = async (n: AlertNotification): Promise<'ok' | 'retry' | 'fail'> => {
    const controller = new AbortController();
    inflight = controller;
    const t = o.clock.setTimeout(() => controller.abort(), o.timeoutMs);
    try {
      const res = await doFetch(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(o.headers as Record<string, string>) },
        body: JSON.stringify(payload(n)),
        signal: controller.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      return res.status === 429 || res.status >= 500 ? 'retry' : 'fail';
    } catch {
      return 'retry';
    } finally {
      o.clock.clearTimeout(t);
      inflight = undefined;
    }
  };

  const pump = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      while (!closed && queue.length > 0) {
        const n = queue[0]!;
        let tries = 0;
        for (;;) {
          const r = await attempt(n);
          if (closed) return;
          if (r === 'ok') {
            stats.sent++;
            break;
          }
          if (r === 'fail' || tries >= o.retries) {
            stats.failed++;
            break;
          }
          const delay = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** tries);
          tries++;
          stats.retries++;
          await new Promise<void>((resolve) => {
            timer = o.clock.setTimeout(() => {
              timer = undefined;
              resolve();
            }, delay);
          });
          if (closed) return;
        }
        if (queue[0] === n) queue.shift();
      }
    } finally {
      busy = false;
      settleIdle();
    }
  };

  return {
    notify(n) {
      if (closed) return;
      if (queue.length >= o.maxQueue) {
        // the head may be in flight; drop the oldest one waiting behind it
        queue.splice(busy && queue.length > 1 ? 1 : 0, 1);
        stats.dropped++;
      }
      queue.push(n);
      void pump();
    },
    stats: () => ({ ...stats, queued: queue.length }),
    idle: () =>
      !busy && queue.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    close() {
      if (closed) return;
      closed = true;
      if (timer) o.clock.clearTimeout(timer);
      inflight?.abort();
      queue.length = 0;
      busy = false;
      settleIdle();
    },
  };
}

function payload({ status, alert }: AlertNotification) {
  return {
    version: '4',
    status,
    receiver: '@perf/metrics',
    groupLabels: { alertname: alert.name },
    commonLabels: alert.labels,
    commonAnnotations: alert.annotations,
    alerts: [
      {
        status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: new Date(alert.firedAt ?? alert.activeAt).toISOString(),
        endsAt:
          alert.resolvedAt === undefined ? '0001-01-01T00:00:00Z' : new Date(alert.resolvedAt).toISOString(),
        value: alert.value,
      },
    ],
  };
}
