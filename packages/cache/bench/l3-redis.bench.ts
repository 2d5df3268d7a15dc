/**
 * L3-only hits (L1 and L2 off) against raw ioredis on the same Redis, same keys and values:
 * 1,000 keys, { id: 1, text: 'hello world' }, sequential awaits, alternating rounds. Then 100
 * concurrent gets through the cache (auto-pipelined) against 100 sequential raw GETs.
 * Needs Redis at REDIS_URL (default 127.0.0.1:6379); uses its own key prefix and deletes it.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { compare } from '../../../tooling/bench.js';
import { REDIS_URL, redisAnswers } from '../../../tooling/redis.js';
import { createCache, createMsgpackSerializer } from '../src/index.js';

if (!(await redisAnswers())) {
  console.log(`skipped: no Redis at ${REDIS_URL}`);
  process.exit(0);
}

const namespace = `perf-bench:cache:${randomBytes(4).toString('hex')}`;
const KEYS = Array.from({ length: 1_000 }, (_, i) => `key:${i}`);
const value = { id: 1, text: 'hello world' };
const serializer = createMsgpackSerializer();

const raw = new Redis(REDIS_URL);
const rawPipelined = new Redis(REDIS_URL, { enableAutoPipelining: true });
const cache = createCache({
  namespace,
  l1: false,
  l2: false,
  l3: { redis: REDIS_URL },
  defaultTtlMs: 3_600_000,
});
await cache.ready();
for (const key of KEYS) {
  await cache.set(key, value);
  await raw.set(`${namespace}:json:${key}`, JSON.stringify(value), 'PX', 3_600_000);
}
// The cache's own bytes (envelope + msgpack), read raw and decoded the same way the cache would.
const HEADER = 37;
const key = (i: number) => KEYS[i % 1_000]!;

await compare(
  'L3-only hit (1,000 keys, sequential)',
  [
    {
      name: 'raw ioredis getBuffer + msgpack decode',
      fn: async (i) => {
        const bytes = await raw.getBuffer(`${namespace}:v:${key(i)}`);
        return bytes === null ? undefined : serializer.deserialize(bytes.subarray(HEADER));
      },
    },
    {
      // What the same-tick MGET batching costs a lone read: one process.nextTick before the GET.
      name: 'raw getBuffer + decode after a nextTick',
      fn: async (i) => {
        await new Promise<void>((resolve) => process.nextTick(resolve));
        const bytes = await raw.getBuffer(`${namespace}:v:${key(i)}`);
        return bytes === null ? undefined : serializer.deserialize(bytes.subarray(HEADER));
      },
    },
    {
      name: 'raw ioredis GET + JSON.parse',
      fn: async (i) => {
        const text = await raw.get(`${namespace}:json:${key(i)}`);
        return text === null ? undefined : JSON.parse(text);
      },
    },
    { name: '@perf/cache get (L3 only)', fn: (i) => cache.get(key(i)) },
  ],
  { iterations: 2_000, rounds: 11, warmupRounds: 1 },
);

// The same read path against a zero-latency stand-in for the client: what the cache itself adds
// per L3 hit (bounded call, span, envelope, stats), without the network noise of this machine.
class InstantClient extends EventEmitter {
  status = 'ready';
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    super();
    this.bytes = bytes;
  }
  getBuffer(): Promise<Buffer> {
    return Promise.resolve(this.bytes);
  }
  mgetBuffer(...keys: string[]): Promise<Buffer[]> {
    return Promise.resolve(keys.map(() => this.bytes));
  }
  duplicate(): this {
    return this;
  }
}
const stored = (await raw.getBuffer(`${namespace}:v:${KEYS[0]}`))!;
const instant = new InstantClient(stored);
const overCache = createCache({
  namespace,
  l1: false,
  l2: false,
  bus: false,
  l3: { redis: instant as never },
});
await compare(
  'L3-only hit on a zero-latency client (the cost the cache adds)',
  [
    {
      name: 'client getBuffer + msgpack decode',
      fn: async () => serializer.deserialize((await instant.getBuffer()).subarray(HEADER)),
    },
    { name: '@perf/cache get (L3 only)', fn: (i) => overCache.get(key(i)) },
  ],
  { iterations: 20_000, rounds: 9 },
);
await overCache.close();

await compare(
  '100 gets (ns per batch of 100)',
  [
    {
      name: '100 sequential raw GETs',
      fn: async () => {
        for (let i = 0; i < 100; i++) JSON.parse((await raw.get(`${namespace}:json:${key(i)}`))!);
      },
    },
    {
      name: '100 concurrent raw GETs (auto-pipelined)',
      fn: () =>
        Promise.all(
          KEYS.slice(0, 100).map(async (k) =>
            JSON.parse((await rawPipelined.get(`${namespace}:json:${k}`))!),
          ),
        ),
    },
    {
      name: '100 concurrent @perf/cache gets',
      fn: () => Promise.all(KEYS.slice(0, 100).map((k) => cache.get(k))),
    },
  ],
  { iterations: 100, rounds: 7, warmupRounds: 1 },
);

await cache.clear();
let cursor = '0';
do {
  const [next, keys] = await raw.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await raw.unlink(...keys);
} while (cursor !== '0');
await cache.close();
raw.disconnect();
rawPipelined.disconnect();
process.exit(0);
