/**
 * `pnpm demo`: the long-running server on PORT (default 3000), configured by the environment
 * (DATABASE_URL, REDIS_URL, OTEL_EXPORTER_OTLP_ENDPOINT, ...). SIGTERM/SIGINT drain, flush the
 * spans and exit 0 (1 if the drain ran out of time).
 */
import { configFromEnv } from './config.js';
import { startDemo } from './demo-app.js';
import { tracingFromEnv } from './tracing.js';

const config = configFromEnv();
// Before the server exists, so its first request is traced; none unless OTEL_* asks for export.
const tracing = tracingFromEnv();
const demo = await startDemo(config, { tracing });
if (tracing) demo.app.log.info({ service: tracing.serviceName }, 'exporting traces over OTLP');
demo.app.log.info({ url: demo.url, upstream: demo.upstream?.url }, 'demo listening');
demo.ready.catch(() => process.exit(1));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    demo.app.log.info({ signal }, 'shutting down: draining in-flight requests');
    void demo.close().then(
      (drained) => process.exit(drained ? 0 : 1),
      () => process.exit(1),
    );
  });
}
