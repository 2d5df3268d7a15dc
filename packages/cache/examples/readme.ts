import { createCache } from '@perf/cache';

// Stand-ins for your app's own data layer and request values.
const db = { lastMessages: async (room: string, n: number) => [`${room}: hello`].slice(0, n) };
const roomId = 'general';
const sessionId = 'session-1';
const cart = { items: ['book'] };

const cache = createCache({
  namespace: process.env.CACHE_NAMESPACE ?? 'chat',
  defaultTtlMs: 60_000,
  l3: { redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, // or an ioredis Redis/Cluster you own
});

// Read-through, stampede-safe: 1,000 concurrent misses run the loader once.
const history = await cache.getOrSet(`history:${roomId}`, () => db.lastMessages(roomId, 50), {
  tags: [`room:${roomId}`],
  graceMs: 300_000, // if the database fails later, serve the last value for 5 more minutes
  softTimeoutMs: 200, // ...or when it is slower than this; the refresh finishes in the background
});
console.log(history);

// A write updates the cache before it returns (other instances drop their copies via the bus).
await cache.set(`history:${roomId}`, await db.lastMessages(roomId, 50));
await cache.invalidateTags([`room:${roomId}`]); // every entry tagged room:<id>, every instance

const session = cache.scope(`session:${sessionId}`); // keys namespaced under the session
await session.set('cart', cart);
await session.clear(); // drops only this session's keys

console.log(cache.stats().hitRate);
await cache.close();
