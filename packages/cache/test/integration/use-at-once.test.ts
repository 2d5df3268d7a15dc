import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, REDIS_URL, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { type CreateCacheOptions, createCache, type TieredCache } from '../../src/index.js';

const RUN = randomBytes(4).toString('hex');
let seq = 0;
const namespaces = new Set<string>();
function ns(): string {
  const name = `perf-test:cache:at-once:${RUN}:${++seq}`;
  namespaces.add(name);
  return name;
}

// Every instance here is used the moment it is constructed: no `await ready()` anywhere.
describe.skipIf(!(await redisAvailable()))('constructed and used at once (real Redis, integration)', () => {
  const open: TieredCache[] = [];
  const servers: PrivateRedis[] = [];

  function make(options: Partial<CreateCacheOptions> & { namespace: string }): TieredCache {
    const cache = createCache({ l3: { redis: REDIS_URL }, ...options });
    open.push(cache);
    return cache;
  }

  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.kill();
  });

  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    for (const name of namespaces) {
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${name}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await admin.unlink(...keys);
      } while (cursor !== '0');
    }
    await admin.quit();
  });

  it('a set on A right after construction is visible on B (also just constructed)', async () => {
    const namespace = ns();
    const a = make({ namespace });
    const b = make({ namespace });
    await a.set('k', { v: 1 });
    expect(await b.get('k')).toEqual({ v: 1 });
    expect(a.stats().errors).toBe(0);
    expect(b.stats().errors).toBe(0);
  });

  it('a delete, a prefix delete and a tag invalidation made at once reach the other instances', async () => {
    const namespace = ns();
    const seed = make({ namespace });
    expect(await seed.ready(5_000)).toBe(true); // the seeder is not under test
    await seed.set('del', 'x');
    await seed.set('p:1', 'x');
    await seed.set('tagged', 'x', { tags: ['t'] });
    await seed.close();
    const a = make({ namespace });
    const b = make({ namespace });
    const c = make({ namespace });
    await a.delete('del');
    await b.deleteByPrefix('p:');
    await c.invalidateTags(['t']);
    // The checker (not under test) waits for Redis, so a miss means the key is gone from Redis.
    const reader = make({ namespace, l1: false, l2: false, bus: false });
    expect(await reader.ready(5_000)).toBe(true);
    expect(await reader.get('del')).toBeUndefined();
    expect(await reader.get('p:1')).toBeUndefined();
    expect(await reader.get('tagged')).toBeUndefined();
  });

  it('an invalidation published while B was still subscribing is not hidden by B’s L1 copy for long', async () => {
    const namespace = ns();
    const a = make({ namespace });
    const b = make({ namespace });
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old'); // B's L1 now holds it
    await a.set('k', 'new');
    await waitFor(async () => (await b.get('k')) === 'new', 1_000);
  });

  it('getOrSet({ lock: true }) used at once across three instances runs the factory once', async () => {
    const namespace = ns();
    const caches = [make({ namespace }), make({ namespace }), make({ namespace })];
    let runs = 0;
    const factory = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      return 'value';
    };
    const values = await Promise.all(caches.map((c) => c.getOrSet('k', factory, { lock: true })));
    expect(values).toEqual(['value', 'value', 'value']);
    expect(runs).toBe(1);
  });

  it('Redis unreachable at start and started later: writes and factory values made meanwhile are replayed', async () => {
    const server = new PrivateRedis(await freePort());
    servers.push(server);
    const namespace = ns();
    const a = createCache({ namespace, l3: { redis: server.url, commandTimeoutMs: 200 } });
    const b = createCache({ namespace, l3: { redis: server.url, commandTimeoutMs: 200 } });
    open.push(a, b);
    const started = Date.now();
    await a.set('written', 'during', { ttlMs: 60_000 });
    // The first call waited for the first connection at most one commandTimeoutMs, then degraded.
    expect(Date.now() - started).toBeLessThan(1_000);
    const next = Date.now();
    await a.set('also', 'during', { ttlMs: 60_000, tags: ['t'] });
    expect(Date.now() - next).toBeLessThan(100); // later calls skip Redis at once until it comes
    expect(await a.getOrSet('made', () => 'by-factory', { ttlMs: 60_000 })).toBe('by-factory');
    await a.invalidateTags(['t']);
    // lock: true without Redis degrades to a local factory run (nothing thrown, nothing lost).
    expect(await b.getOrSet('locked', () => 'local', { ttlMs: 60_000, lock: true })).toBe('local');
    expect(await b.get('written')).toBeUndefined(); // B cannot see A's write yet

    await server.start();
    await waitFor(() => a.stats().resyncs > 0, 10_000);
    const reader = make({ namespace, l1: false, l2: false, bus: false, l3: { redis: server.url } });
    expect(await reader.get('written')).toBe('during');
    expect(await reader.get('made')).toBe('by-factory');
    expect(await reader.get('also')).toBeUndefined(); // its tag was invalidated after it was written
    expect(await reader.get('locked')).toBe('local');
    // B, constructed before Redis existed, now reads A's replayed write (its bus is up once subscribed).
    await waitFor(async () => (await b.get('written')) === 'during', 5_000);
    await waitFor(() => b.ready(100), 5_000);
    await a.set('written', 'after', { ttlMs: 60_000 });
    await waitFor(async () => (await b.get('written')) === 'after', 1_000);
  }, 30_000);

  it('Redis not answering at the first connection (frozen): deletes, prefix deletes and tags made meanwhile are replayed on the first ready', async () => {
    const server = new PrivateRedis(await freePort());
    servers.push(server);
    await server.start();
    const namespace = ns();
    const seeder = make({ namespace, l1: false, l2: false, bus: false, l3: { redis: server.url } });
    await seeder.set('deleted', 'old');
    await seeder.set('p:1', 'old');
    await seeder.set('tagged', 'old', { tags: ['t'] });
    server.pause(); // accepts connections, answers nothing: a new client never becomes ready
    const a = createCache({ namespace, l3: { redis: server.url, commandTimeoutMs: 200 } });
    open.push(a);
    await a.delete('deleted');
    await a.deleteByPrefix('p:');
    await a.invalidateTags(['t']);
    server.resume();
    await waitFor(() => a.stats().resyncs > 0, 10_000);
    const reader = make({ namespace, l1: false, l2: false, bus: false, l3: { redis: server.url } });
    expect(await reader.get('deleted')).toBeUndefined();
    expect(await reader.get('p:1')).toBeUndefined();
    expect(await reader.get('tagged')).toBeUndefined();
  }, 30_000);
});
