/**
 * Spans for attempts that did not succeed (rejected, failed, timed out), through the OpenTelemetry
 * API only: a no-op until an SDK is registered (e.g. by @perf/tracing). Successful calls get no
 * span, so the hot path pays nothing.
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
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
