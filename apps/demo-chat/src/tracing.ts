/**
 * Tracing for the demo's entry points: an OpenTelemetry provider exporting over OTLP/HTTP, set up
 * only when the environment asks for export, so the embedded `pnpm start` runs with no exporter
 * (correlation ids and log fields work either way: they need no SDK).
 */
import { setupTracing, type TracingHandle } from '@perf/tracing';

export const SERVICE_NAME = 'demo-chat';

/** The variables that turn export on; every other OTEL_* variable only tunes it. */
export const EXPORT_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
] as const;

/**
 * Sets up tracing when one of `EXPORT_VARIABLES` is set (and `OTEL_SDK_DISABLED` is not true);
 * undefined otherwise. `OTEL_SERVICE_NAME` wins over `demo-chat` (several instances, say).
 * @throws {PerfConfigError} naming the variable when an OTEL_* value is bad.
 */
export function tracingFromEnv(): TracingHandle | undefined {
  const env = process.env;
  if (!EXPORT_VARIABLES.some((name) => (env[name] ?? '') !== '')) return undefined;
  const tracing = setupTracing({ serviceName: env.OTEL_SERVICE_NAME || SERVICE_NAME });
  return tracing.enabled ? tracing : undefined;
}
