/**
 * What the first call pays when it is made right after construction, while the Redis clients are
 * still connecting (distributed mode): how long it waited before `fn` started, against the same call
 * on an instance whose clients are ready. Real time, real Redis at REDIS_URL (skipped without one);
 * 20 fresh instances, each with its own ioredis client (plus the subscriber it duplicates).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_URL, redisAnswers } from '../../../tooling/redis.js';
import { Deduplicator } from '../src/index.js';

const TRIALS = 20;
const PREFIX = `perf-bench:first-call:${randomBytes(4).toString('hex')}:`;

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return `median ${at(0.5).toFixed(2)} ms   p90 ${at(0.9).toFixed(2)} ms   max ${sorted.at(-1)!.toFixed(2)} ms`;
}

/** Time from `run()` to `fn` starting (the wait before the work), for one call. */
async function waitBeforeFn(dedup: Deduplicator, key: string): Promise<number> {
  const started = performance.now();
  let began = 0;
  await dedup.run(key, async () => {
    began = performance.now();
    return 1;
  });
  return began - started;
}

if (!(await redisAnswers())) {
  console.log(`no Redis at ${REDIS_URL}: skipped`);
} else {
  const connecting: number[] = [];
  const ready: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const redis = new Redis(REDIS_URL);
    const dedup = new Deduplicator({ name: 'first', distributed: { redis, prefix: PREFIX } });
    connecting.push(await waitBeforeFn(dedup, `k${i}`)); // at once: clients still connecting
    ready.push(await waitBeforeFn(dedup, `k${i}b`)); // same instance, now ready
    if (dedup.stats().distributed!.fallbacks !== 0) throw new Error('a call ran locally: not measured');
    await dedup.close();
    await redis.quit();
  }
  console.log(`\nfirst call right after construction, distributed mode (${TRIALS} fresh instances)`);
  console.log(`  wait before fn, clients connecting   ${summary(connecting)}`);
  console.log(`  wait before fn, clients ready        ${summary(ready)}`);
  console.log(`  added by connecting (median)         ${(median(connecting) - median(ready)).toFixed(2)} ms`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
