/**
 * Requests per second of one demo instance and of two instances sharing Redis and PostgreSQL, each
 * a real `pnpm demo` process (dist/main.js), under the same seeded chat-history workload (90/10,
 * bursts, replies) from this process. Needs the real Redis and PostgreSQL on 127.0.0.1 (own key
 * prefix and database, removed after); skips without them. On a 2-core machine the two instances
 * and the generator share the same cores, so the ratio shows coordination cost more than scaling.
 */
import { runLoad } from '../src/load/load-generator.js';
import { type DemoProcess, startDemoProcess } from '../test/helpers/demo-process.js';
import {
  createDatabase,
  postgresAvailable,
  REDIS_URL,
  redisAnswersOrSkip,
  redisPrefix,
} from './services-or-skip.js';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 5_000);
const CONCURRENCY = 16;

if (!(await redisAnswersOrSkip()) || !(await postgresAvailable())) {
  console.log('scale-out: skipped (needs Redis and PostgreSQL on 127.0.0.1)');
  process.exit(0);
}
const { prefix, clean } = redisPrefix();
const database = await createDatabase();
const env = { DATABASE_URL: database.url, REDIS_URL, DEMO_REDIS_PREFIX: prefix, LOG_LEVEL: 'info' };
const instances: DemoProcess[] = [];
try {
  instances.push(await startDemoProcess(env));
  instances.push(await startDemoProcess(env));
  const run = async (targets: string[], seed: number) => {
    const r = await runLoad({
      targets,
      conversations: 500,
      concurrency: CONCURRENCY,
      seed,
      phases: [{ name: 'steady', durationMs: ROUND_MS }],
    });
    if (r.total.errors > 0 || r.total.staleReads > 0)
      throw new Error(`errors ${r.total.errors}, stale ${r.total.staleReads}`);
    return r.total;
  };
  await run([instances[0]!.url, instances[1]!.url], 1); // warm-up
  const rows: Array<{ setup: string; rps: number; p99: number }> = [];
  for (let round = 0; round < 2; round++) {
    const one = await run([instances[0]!.url], 10 + round);
    rows.push({ setup: 'one instance', rps: one.requestsPerSecond, p99: one.latencyMs.p99 ?? 0 });
    const two = await run([instances[0]!.url, instances[1]!.url], 20 + round);
    rows.push({
      setup: 'two instances, shared Redis',
      rps: two.requestsPerSecond,
      p99: two.latencyMs.p99 ?? 0,
    });
  }
  const best = (setup: string) => rows.filter((r) => r.setup === setup).sort((a, b) => b.rps - a.rps)[0]!;
  const a = best('one instance');
  const b = best('two instances, shared Redis');
  console.log(
    `chat-history 90/10 with bursts and replies, ${CONCURRENCY} concurrent, best of 2 rounds of ${ROUND_MS} ms`,
  );
  console.table([
    { setup: a.setup, 'req/s': a.rps.toFixed(0), 'p99 ms': a.p99.toFixed(1), ratio: '1.00x' },
    {
      setup: b.setup,
      'req/s': b.rps.toFixed(0),
      'p99 ms': b.p99.toFixed(1),
      ratio: `${(b.rps / a.rps).toFixed(2)}x`,
    },
  ]);
} finally {
  await Promise.all(instances.map((i) => i.stop()));
  await clean();
  await database.drop();
}
process.exit(0);
