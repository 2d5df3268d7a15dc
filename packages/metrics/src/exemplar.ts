/**
 * The trace id for exemplars: the active span's, only when that span is sampled (an unsampled or
 * absent span gives no exemplar). Read through `@opentelemetry/api`, a no-op until an SDK is set up.
 */
import { context, isSpanContextValid, TraceFlags, trace } from '@opentelemetry/api';

/** The active, sampled span's trace id, or `undefined`. */
export function sampledTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  return (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED && isSpanContextValid(sc)
    ? sc.traceId
    : undefined;
}
