/**
 * Real time (not compressed time): the chat workload of issue 16. 200 conversations, Zipf s = 1.0
 * popularity (seed 42), about 2,000 `getOrSet` reads/s for 6 s on a reader instance, and 10
 * writes/s on a writer instance that shares the Redis (the bus tells the reader). The "database"
 * answers after 1 ms. Printed per contender: the reader's L1 hit ratio, mean and p99 read latency,
 * and the mean against an L1-only cache. Contenders run one after another (real time cannot
 * alternate); set ROUNDS=2 to repeat them. Needs Redis at REDIS_URL (own key prefix, deleted after).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { REDIS_URL, redisAnswers } from '../../../tooling/redis.js';
import { mulberry32, zipfSampler } from '../../../tooling/workloads.js';
import { type CreateCacheOptions, createCache } from '../src/index.js';

const CONVERSATIONS = 200;
const READS_PER_S = 2_000;
const SECONDS = 6;
const TICK_MS = 10;
const WRITES_PER_S = 10;
const TTL_MS = 300_000;
const ROUNDS = Number(process.env.ROUNDS ?? 1);

interface Message {
  id: number;
  author: number;
  text: string;
}

/** What a contender must offer: reads on one instance, writes on another, and its L1 counts. */
interface Pair {
  read(key: string, factory: () => Promise<Message[]>): Promise<Message[]>;
  write(key: string, value: Message[]): Promise<void>;
  l1(): { hits: number; lookups: number };
  close(): Promise<void>;
}

if (!(await redisAnswers())) {
  console.log('realtime-chat: skipped, no Redis at', REDIS_URL);
  process.exit(0);
}

const prefixes: string[] = [];
function prefix(): string {
  const p = `perf-bench:cache:rt:${randomBytes(4).toString('hex')}`;
  prefixes.push(p);
  return p;
}

async function perfPair(options: Partial<CreateCacheOptions>, withL3: boolean): Promise<Pair> {
  const namespace = prefix();
  const l3 = withL3 ? { l3: { redis: REDIS_URL } } : {};
  const reader = createCache({ namespace, defaultTtlMs: TTL_MS, ...l3, ...options });
  const writer = withL3 ? createCache({ namespace, defaultTtlMs: TTL_MS, ...l3, ...options }) : reader;
  await reader.ready();
  await writer.ready();
  return {
    read: (key, factory) => reader.getOrSet(key, factory),
    write: (key, value) => writer.set(key, value),
    l1: () => {
      const t = reader.stats().tiers.l1!;
      return { hits: t.hits, lookups: t.hits + t.misses };
    },
    close: async () => {
      await reader.close();
      if (writer !== reader) await writer.close();
    },
  };
}

async function bentoPair(): Promise<Pair> {
  const namespace = prefix();
  const url = new URL(REDIS_URL);
  const connection = { host: url.hostname, port: Number(url.port || 6379) };
  const make = () =>
    new BentoCache({
      default: 'chat',
      prefix: namespace,
      ttl: TTL_MS,
      stores: {
        chat: bentostore()
          .useL1Layer(memoryDriver({ maxItems: 10_000 }))
          .useL2Layer(redisDriver({ connection }))
          .useBus(redisBusDriver({ connection })),
      },
    });
  const reader = make();
  const writer = make();
  let hits = 0;
  let lookups = 0;
  reader.on('cache:hit', (e: { layer?: string }) => {
    lookups++;
    if (e.layer === 'l1') hits++;
  });
  reader.on('cache:miss', () => {
    lookups++;
  });
  await new Promise((r) => setTimeout(r, 200)); // bentocache has no ready(); let the bus subscribe
  return {
    read: (key, factory) => reader.getOrSet({ key, factory, ttl: TTL_MS }),
    write: (key, value) => writer.set({ key, value, ttl: TTL_MS }).then(() => undefined),
    l1: () => ({ hits, lookups }),
    close: async () => {
      await reader.disconnectAll();
      await writer.disconnectAll();
    },
  };
}

const contenders: Array<[string, () => Promise<Pair>]> = [
  ['L1 only (no L3)', () => perfPair({ l2: false }, false)],
  [
    'old default (L1 100 ms + in-process L2 + L3 + bus)',
    () => perfPair({ l1: { ttlMs: 100 }, l2: {} }, true),
  ],
  ['new default (L1 follows the bus + L3 + bus)', () => perfPair({}, true)],
  ['bentocache 1.6 (memory + Redis + bus)', bentoPair],
];

async function run(name: string, pair: Pair): Promise<{ hit: number; mean: number; p99: number }> {
  const random = mulberry32(42);
  const zipf = zipfSampler(CONVERSATIONS, 1.0, random);
  const db = new Map<number, Message[]>();
  let nextId = 1;
  for (let c = 0; c < CONVERSATIONS; c++) {
    db.set(
      c,
      Array.from({ length: 20 }, () => ({ id: nextId++, author: c % 97, text: 'hello, how are you today?' })),
    );
  }
  const load = (c: number) => async () => {
    await new Promise((r) => setTimeout(r, 1));
    return db.get(c)!;
  };
  const latencies: number[] = [];
  const perTick = (READS_PER_S * TICK_MS) / 1000;
  const ticks = (SECONDS * 1000) / TICK_MS;
  const writeEvery = 1000 / WRITES_PER_S / TICK_MS;
  const before = pair.l1();
  const start = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    const due = start + tick * TICK_MS;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (tick % writeEvery === 0) {
      const c = zipf();
      const history = [...db.get(c)!.slice(1), { id: nextId++, author: 1, text: 'a new message' }];
      db.set(c, history);
      await pair.write(`history:${c}`, history);
    }
    for (let i = 0; i < perTick; i++) {
      const c = zipf();
      const t0 = performance.now();
      await pair.read(`history:${c}`, load(c));
      latencies.push(performance.now() - t0);
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const after = pair.l1();
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((s, x) => s + x, 0) / latencies.length;
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  const hit = (after.hits - before.hits) / Math.max(1, after.lookups - before.lookups);
  console.log(
    `  ${name.padEnd(52)} reads ${String(latencies.length).padStart(6)} in ${elapsed.toFixed(1)} s   L1 hit ${(hit * 100).toFixed(1).padStart(5)}%   mean ${(mean * 1000).toFixed(1).padStart(7)} µs   p99 ${(p99 * 1000).toFixed(1).padStart(8)} µs`,
  );
  return { hit, mean, p99 };
}

console.log(
  `\nrealtime chat: ${CONVERSATIONS} conversations, Zipf 1.0, ${READS_PER_S} reads/s for ${SECONDS} s, ${WRITES_PER_S} writes/s on a second instance, Redis ${REDIS_URL}`,
);
const results = new Map<string, Array<{ hit: number; mean: number; p99: number }>>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, makePair] of contenders) {
    const pair = await makePair();
    const r = await run(name, pair);
    await pair.close();
    results.set(name, [...(results.get(name) ?? []), r]);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = med(results.get(contenders[0]![0])!.map((r) => r.mean));
console.log(
  `\n  ${'contender'.padEnd(52)} ${'L1 hit'.padStart(7)} ${'mean µs'.padStart(9)} ${'p99 µs'.padStart(9)} ${'mean vs L1-only'.padStart(16)}`,
);
for (const [name] of contenders) {
  const rs = results.get(name)!;
  const mean = med(rs.map((r) => r.mean));
  console.log(
    `  ${name.padEnd(52)} ${`${(med(rs.map((r) => r.hit)) * 100).toFixed(1)}%`.padStart(7)} ${(mean * 1000).toFixed(1).padStart(9)} ${(med(rs.map((r) => r.p99)) * 1000).toFixed(1).padStart(9)} ${`${(mean / base).toFixed(2)}x`.padStart(16)}`,
  );
}

const admin = new Redis(REDIS_URL);
for (const p of prefixes) {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await admin.unlink(...keys);
  } while (cursor !== '0');
}
await admin.quit();
process.exit(0);
