/**
 * docs/workloads.md "stampede": 1,000 concurrent getOrSet on one cold key whose factory takes 50 ms.
 * Reports factory runs and the p99 wait, in one process (@perf/cache and bentocache), and
 * across two @perf/cache instances sharing Redis with `lock: true` (when Redis answers).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { REDIS_URL, redisAnswers } from '../../../tooling/redis.js';
import { createCache } from '../src/index.js';

type GetOrSet = (key: string, factory: () => Promise<string>) => Promise<string>;

async function stampede(title: string, callers: GetOrSet[]): Promise<void> {
  let runs = 0;
  const factory = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 50));
    return 'value';
  };
  const key = `cold:${randomBytes(4).toString('hex')}`;
  const waits: number[] = [];
  await Promise.all(
    Array.from({ length: 1_000 }, async (_, i) => {
      const t0 = performance.now();
      const v = await callers[i % callers.length]!(key, factory);
      if (v !== 'value') throw new Error('wrong value');
      waits.push(performance.now() - t0);
    }),
  );
  waits.sort((a, b) => a - b);
  const p = (q: number) => waits[Math.floor(q * (waits.length - 1))]!.toFixed(1);
  console.log(
    `  ${title.padEnd(52)} factory runs ${String(runs).padStart(3)}   p50 ${p(0.5)} ms   p99 ${p(0.99)} ms`,
  );
}

console.log('\nstampede: 1,000 concurrent getOrSet, one cold key, 50 ms factory');
const perf = createCache({ l2: false });
await stampede('@perf/cache (one process)', [(k, f) => perf.getOrSet(k, f)]);
const bento = new BentoCache({
  default: 'm',
  stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: 1_000 })) },
});
await stampede('bentocache (one process)', [(k, f) => bento.getOrSet({ key: k, factory: f, ttl: 60_000 })]);

if (await redisAnswers()) {
  const namespace = `perf-bench:cache:stampede:${randomBytes(4).toString('hex')}`;
  const a = createCache({ namespace, l3: { redis: REDIS_URL } });
  const b = createCache({ namespace, l3: { redis: REDIS_URL } });
  await Promise.all([a.ready(), b.ready()]);
  await stampede('@perf/cache, 2 instances on Redis, no lock', [
    (k, f) => a.getOrSet(k, f),
    (k, f) => b.getOrSet(k, f),
  ]);
  await stampede('@perf/cache, 2 instances on Redis, lock: true', [
    (k, f) => a.getOrSet(k, f, { lock: true }),
    (k, f) => b.getOrSet(k, f, { lock: true }),
  ]);
  await a.clear();
  await Promise.all([a.close(), b.close()]);
} else {
  console.log(`  (cross-instance runs skipped: no Redis at ${REDIS_URL})`);
}
await perf.close();
await bento.disconnectAll();
process.exit(0);
