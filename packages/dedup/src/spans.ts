/**
 * Spans through `@opentelemetry/api` only: a no-op until an SDK is registered (by @perf/tracing or
 * your own setup). The leader's span wraps the work; a follower's span links to the leader's span.
 */
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { isPerfAbortError, isPerfTimeoutError } from '@perf/core';
import { VERSION } from './version.js';

const tracer = trace.getTracer('@perf/dedup', VERSION);

/** Span attribute names this package sets. */
export const SpanAttributes = {
  name: 'perf.dedup.name',
  key: 'perf.dedup.key',
  role: 'perf.dedup.role',
  correlationId: 'perf.dedup.correlation_id',
  leaderCorrelationId: 'perf.dedup.leader_correlation_id',
  bypassed: 'perf.dedup.bypassed',
  outcome: 'perf.dedup.outcome',
} as const;

/**
 * Starts the span of a leading (or bypassing) call: `dedup.run`. The caller sets its attributes
 * (`describeSpan`) only when it records, so an unobserved call builds no strings for it.
 */
export function startLeaderSpan(): Span {
  return tracer.startSpan('dedup.run');
}

/** Starts the span of a joining call, `dedup.join`, linked to the leader's span (who waited on whom). */
export function startFollowerSpan(leaderSpan: Span | undefined): Span {
  const links = leaderSpan?.isRecording() ? [{ context: leaderSpan.spanContext() }] : undefined;
  return tracer.startSpan('dedup.join', links ? { links } : undefined);
}

/** What a span says about its call. */
export interface SpanDescription {
  name: string;
  key: string;
  role: 'leader' | 'follower';
  correlationId: string;
  leaderCorrelationId: string;
  bypassed: boolean;
}

/** Sets the call's attributes on a recording span. */
export function describeSpan(span: Span, d: SpanDescription): void {
  span.setAttributes({
    [SpanAttributes.name]: d.name,
    [SpanAttributes.key]: d.key,
    [SpanAttributes.role]: d.role,
    [SpanAttributes.correlationId]: d.correlationId,
    [SpanAttributes.leaderCorrelationId]: d.leaderCorrelationId,
    [SpanAttributes.bypassed]: d.bypassed,
  });
}

/** Runs `fn` with `span` as the active span when it records (so the work's own spans nest under it). */
export function runInSpan<R>(span: Span | undefined, fn: () => R): R {
  if (span === undefined || !span.isRecording()) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends `span` with the call's outcome. */
export function endSpan(span: Span | undefined, outcome: string, error?: unknown): void {
  if (span === undefined) return;
  if (span.isRecording()) {
    span.setAttribute(SpanAttributes.outcome, outcome);
    if (outcome !== 'success') {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof Error && !isPerfAbortError(error) && !isPerfTimeoutError(error)) {
        span.recordException(error);
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
  }
  span.end();
}
