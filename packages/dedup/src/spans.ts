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
 * Instrumentation must never break the call: a tracer (or span) that throws is treated as absent,
 * so every helper here swallows the tracer's own errors (never `fn`'s).
 */

/**
 * Starts the span of a leading (or bypassing) call: `dedup.run`. The caller sets its attributes
 * (`describeSpan`) only when it records, so an unobserved call builds no strings for it.
 * Returns undefined when the tracer throws.
 */
export function startLeaderSpan(): Span | undefined {
  try {
    return tracer.startSpan('dedup.run');
  } catch {
    return undefined;
  }
}

/**
 * Starts the span of a joining call, `dedup.join`, linked to the leader's span (who waited on whom).
 * Returns undefined when the tracer throws.
 */
export function startFollowerSpan(leaderSpan: Span | undefined): Span | undefined {
  try {
    const links = isRecording(leaderSpan) ? [{ context: leaderSpan!.spanContext() }] : undefined;
    return tracer.startSpan('dedup.join', links ? { links } : undefined);
  } catch {
    return undefined;
  }
}

/** True when `span` records; false for no span or a span whose `isRecording()` throws. */
export function isRecording(span: Span | undefined): boolean {
  if (span === undefined) return false;
  try {
    return span.isRecording();
  } catch {
    return false;
  }
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

/** Sets the call's attributes on a recording span (a throwing span is left as it is). */
export function describeSpan(span: Span, d: SpanDescription): void {
  try {
    span.setAttributes({
      [SpanAttributes.name]: d.name,
      [SpanAttributes.key]: d.key,
      [SpanAttributes.role]: d.role,
      [SpanAttributes.correlationId]: d.correlationId,
      [SpanAttributes.leaderCorrelationId]: d.leaderCorrelationId,
      [SpanAttributes.bypassed]: d.bypassed,
    });
  } catch {
    // instrumentation never breaks the call
  }
}

/**
 * Runs `fn` with `span` as the active span when it records (so the work's own spans nest under it).
 * `fn` runs exactly once: when the context manager throws before calling it, it runs without the
 * span; what `fn` itself throws or returns passes through unchanged.
 */
export function runInSpan<R>(span: Span | undefined, fn: () => R): R {
  if (!isRecording(span)) return fn();
  let state = 0; // 0: fn not called yet, 1: fn returned, 2: fn threw
  let result: R | undefined;
  let thrown: unknown;
  try {
    return context.with(trace.setSpan(context.active(), span!), () => {
      try {
        result = fn();
        state = 1;
        return result;
      } catch (error) {
        thrown = error;
        state = 2;
        throw error;
      }
    });
  } catch {
    if (state === 0) return fn();
    if (state === 1) return result as R;
    throw thrown;
  }
}

/** Ends `span` with the call's outcome (a throwing span is still ended if it can be). */
export function endSpan(span: Span | undefined, outcome: string, error?: unknown): void {
  if (span === undefined) return;
  try {
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
  } catch {
    // instrumentation never breaks the call
  }
  try {
    span.end();
  } catch {
    // instrumentation never breaks the call
  }
}
