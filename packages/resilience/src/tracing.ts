/**
 * Spans through the OpenTelemetry API only: a no-op until an SDK is registered (e.g. by
 * @perf/tracing).
 *
 * - Under a sampled parent span, every call gets a `breaker call` span (successes too), and the
 *   call runs in its context, so the spans below and the ones `fn` makes are its children.
 * - Whatever the parent, an attempt that failed or timed out and a refused call get a short error
 *   span (`breaker failure`, `breaker timeout`, `breaker rejected`, `breaker bulkhead-rejected`).
 *
 * Without a sampled parent a successful call costs one `trace.getActiveSpan()` and creates no
 * span object.
 */
import {
  type Context,
  context,
  isSpanContextValid,
  type Span,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { BreakerCallOutcome, CircuitState } from '@perf/core';
import { VERSION } from './version.js';

const tracer = trace.getTracer('@perf/resilience', VERSION);

/** Records one short span, child of the active context, for a call that ended in `outcome`. */
export function recordCallSpan(
  name: string,
  outcome: BreakerCallOutcome,
  state: CircuitState,
  error: unknown,
): void {
  const span = tracer.startSpan(`breaker ${outcome}`, {
    attributes: { 'perf.breaker.name': name, 'perf.breaker.outcome': outcome, 'perf.breaker.state': state },
  });
  if (outcome === 'failure' || outcome === 'timeout') {
    span.recordException(error instanceof Error ? error : String(error));
  }
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}

/** Where every 1.x copy of `@opentelemetry/api` keeps its registered globals (its cross-copy contract). */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** The active context when its span is valid and sampled, else `undefined` (the one hot-path check). */
export function sampledParent(): Context | undefined {
  // No context manager registered: the API's no-op manager holds only the root context, so no span
  // can be active. One property read instead of `trace.getActiveSpan()` for an app without an SDK.
  const api = (globalThis as { [OTEL_API_GLOBAL]?: { context?: unknown } })[OTEL_API_GLOBAL];
  if (api?.context === undefined) return undefined;
  const parent = trace.getActiveSpan();
  if (parent === undefined) return undefined;
  const sc = parent.spanContext();
  return (sc.traceFlags & TraceFlags.SAMPLED) !== 0 && isSpanContextValid(sc) ? context.active() : undefined;
}

/** What a traced call learns on its way, for its `breaker call` span. */
export class CallRecord {
  /** Times `fn` was called (0 when the call was refused before any attempt). */
  attempts = 0;
  /** The outcome as `perf:breaker:call` reports it; unset when the breaker was closed. */
  outcome: BreakerCallOutcome | undefined;
  slow = false;
  /** True when a fallback answered instead of the error. */
  fallback = false;
}

/** Starts the `breaker call` span of breaker `name`, child of `parent`. */
export function startCallSpan(name: string, parent: Context): Span {
  return tracer.startSpan('breaker call', { attributes: { 'perf.breaker.name': name } }, parent);
}

/** Ends a `breaker call` span; when `failed`, `error` is what the caller got. */
export function endCallSpan(
  span: Span,
  state: CircuitState,
  record: CallRecord,
  failed: boolean,
  error: unknown,
): void {
  span.setAttributes({
    'perf.breaker.outcome': record.outcome ?? 'rejected',
    'perf.breaker.state': state,
    'perf.breaker.attempts': record.attempts,
    'perf.breaker.retries': record.attempts > 1 ? record.attempts - 1 : 0,
    'perf.breaker.fallback': record.fallback,
  });
  if (record.slow) span.setAttribute('perf.breaker.slow', true);
  if (failed) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}
