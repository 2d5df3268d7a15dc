/** Spans through the OpenTelemetry API only: a no-op until an SDK is registered (e.g. by @perf/tracing). */
import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { VERSION } from './version.js';

const tracer = trace.getTracer('@perf/cache', VERSION);

/** Starts a client span for one Redis command. */
export function startRedisSpan(operation: string, namespace: string): Span {
  return tracer.startSpan(`cache.l3 ${operation}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system': 'redis', 'db.operation': operation, 'cache.namespace': namespace },
  });
}

/** Starts an internal span around a `getOrSet` factory call. */
export function startFactorySpan(key: string, namespace: string): Span {
  return tracer.startSpan('cache.factory', {
    kind: SpanKind.INTERNAL,
    attributes: { 'cache.key': key, 'cache.namespace': namespace },
  });
}

/** Ends `span`, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}
