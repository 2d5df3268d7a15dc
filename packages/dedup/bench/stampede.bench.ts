/**
 * docs/workloads.md "stampede": 1,000 concurrent identical calls on one cold key whose factory takes
 * 50 ms. Reports factory runs and the p50/p99 wait, for one process and, when Redis answers, for
 * three Deduplicator instances in distributed mode (1,000 calls spread over them).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { REDIS_URL, redisAnswers } from '../../../tooling/redis.js';
import { Deduplicator } from '../src/index.js';

const CALLS = 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function stampede(instances: Deduplicator[], key: string) {
  let runs = 0;
  const factory = async () => {
    runs++;
    await sleep(50);
    return { id: 1, text: 'hello world' };
  };
  const waits: number[] = [];
  await Promise.all(
    Array.from({ length: CALLS }, async (_, i) => {
      const started = performance.now();
      await instances[i % instances.length]!.run(key, factory);
      waits.push(performance.now() - started);
    }),
  );
  waits.sort((a, b) => a - b);
  return { runs, p50: percentile(waits, 50), p99: percentile(waits, 99) };
}

function print(label: string, r: { runs: number; p50: number; p99: number }) {
  console.log(
    `  ${label.padEnd(34)} factory runs ${String(r.runs).padStart(4)}   wait p50 ${r.p50.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms`,
  );
}

console.log(`\nstampede: ${CALLS} concurrent calls, one cold key, factory 50 ms`);
const mapInFlight = new Map<string, Promise<unknown>>();
const naive = {
  run: (key: string, fn: () => Promise<unknown>) => {
    const existing = mapInFlight.get(key);
    if (existing) return existing;
    const p = fn().finally(() => mapInFlight.delete(key));
    mapInFlight.set(key, p);
    return p;
  },
} as unknown as Deduplicator;
const none = { run: (_key: string, fn: () => Promise<unknown>) => fn() } as unknown as Deduplicator;
print('no deduplication', await stampede([none], 'k0'));
print('map singleflight', await stampede([naive], 'k1'));
const local = new Deduplicator();
for (let round = 0; round < 3; round++)
  print(`Deduplicator, 1 process (#${round + 1})`, await stampede([local], `k2-${round}`));
await local.close();

if (await redisAnswers()) {
  const prefix = `perf-bench:dedup:${randomBytes(6).toString('hex')}:`;
  const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)];
  const fleet = clients.map((redis) => new Deduplicator({ name: 'bench', distributed: { redis, prefix } }));
  for (let round = 0; round < 3; round++) {
    print(`distributed, 3 instances (#${round + 1})`, await stampede(fleet, `k3-${round}`));
  }
  const stats = fleet.map((d) => d.stats().distributed!);
  console.log(
    `  distributed totals: leads ${stats.reduce((n, s) => n + s.leads, 0)}, remote results ${stats.reduce((n, s) => n + s.remoteResults, 0)}, fallbacks ${stats.reduce((n, s) => n + s.fallbacks, 0)}`,
  );
  await Promise.all(fleet.map((d) => d.close()));
  await Promise.all(clients.map((c) => c.quit()));
} else {
  console.log(`  (no Redis at ${REDIS_URL}: distributed rows skipped)`);
}
