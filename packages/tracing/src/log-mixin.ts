/** Puts the correlation id, trace id and span id into every log line (pino `mixin`, or any logger). */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { correlationId } from './correlation.js';

/** Fields the mixin adds (absent ones are left out). */
export interface LogCorrelationFields {
  correlation_id?: string;
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
}

/**
 * The current correlation id and active span ids, as log fields.
 * @example pino({ mixin: logCorrelation })
 */
export function logCorrelation(): LogCorrelationFields {
  const out: LogCorrelationFields = {};
  const id = correlationId();
  if (id !== undefined) out.correlation_id = id;
  const sc = trace.getActiveSpan()?.spanContext();
  if (sc && isSpanContextValid(sc)) {
    out.trace_id = sc.traceId;
    out.span_id = sc.spanId;
    out.trace_flags = `0${sc.traceFlags.toString(16)}`;
  }
  return out;
}

/** `pino({ mixin: pinoMixin() })`: same as `logCorrelation`, the shape pino's option expects. */
export function pinoMixin(): () => LogCorrelationFields {
  return logCorrelation;
}
