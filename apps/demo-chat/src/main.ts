/**
 * `pnpm demo`: the long-running server on PORT (default 3000), configured by the environment
 * (DATABASE_URL, REDIS_URL, ...). SIGTERM/SIGINT drain and exit 0 (1 if the drain ran out of time).
 */
import { configFromEnv } from './config.js';
import { startDemo } from './demo-app.js';

const demo = await startDemo(configFromEnv());
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
