/**
 * docs/workloads.md "hot-path micro": 1,000 keys, values { id: 1, text: 'hello world' }, sequential
 * awaits, contenders alternating round by round, median of 9 rounds. L1 hits only: every cache
 * runs memory-only with a TTL far longer than the run.
 */
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import { LRUCache } from 'lru-cache';
import { compare } from '../../../tooling/bench.js';
import { createCache } from '../src/index.js';

const KEYS = Array.from({ length: 1_000 }, (_, i) => `key:${i}`);
const value = { id: 1, text: 'hello world' };
const HOUR = 3_600_000;

const lru = new LRUCache<string, object>({ max: 10_000 });
const perf = createCache({ l1: { maxEntries: 10_000 }, l2: false, defaultTtlMs: HOUR });
const bento = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
});
const cacheable = new Cacheable();
const manager = createCacheManager();

for (const key of KEYS) {
  lru.set(key, value);
  await perf.set(key, value);
  await bento.set({ key, value, ttl: HOUR });
  await cacheable.set(key, value, HOUR);
  await manager.set(key, value, HOUR);
}

const key = (i: number) => KEYS[i % 1_000]!;
const factory = () => value;

await compare(
  'L1-hit get (1,000 keys)',
  [
    { name: 'raw async lru.get', fn: async (i) => lru.get(key(i)) },
    { name: '@perf/cache get', fn: (i) => perf.get(key(i)) },
    { name: 'bentocache get', fn: (i) => bento.get({ key: key(i) }) },
    { name: 'cacheable get', fn: (i) => cacheable.get(key(i)) },
    { name: 'cache-manager get', fn: (i) => manager.get(key(i)) },
  ],
  { iterations: 20_000, rounds: 9 },
);

await compare(
  'L1-hit getOrSet (1,000 keys)',
  [
    { name: 'raw async lru.get', fn: async (i) => lru.get(key(i)) },
    { name: '@perf/cache getOrSet', fn: (i) => perf.getOrSet(key(i), factory) },
    { name: 'bentocache getOrSet', fn: (i) => bento.getOrSet({ key: key(i), factory, ttl: HOUR }) },
    { name: 'cache-manager wrap', fn: (i) => manager.wrap(key(i), async () => value, HOUR) },
  ],
  { iterations: 20_000, rounds: 9 },
);

await perf.close();
await bento.disconnectAll();
process.exit(0);
