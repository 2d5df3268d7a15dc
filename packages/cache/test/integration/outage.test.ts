import { createCircuitBreaker } from '@perf/resilience';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { type CreateCacheOptions, createCache, type TieredCache } from '../../src/index.js';

// A private redis-server that the tests kill, restart and freeze (ports 6390-6399 are ours).
describe.skipIf(!(await redisAvailable()))('Redis outage (private redis-server, integration)', () => {
  const server = new PrivateRedis(6390);
  const open: TieredCache[] = [];

  async function make(options: Partial<CreateCacheOptions> = {}): Promise<TieredCache> {
    const cache = createCache({
      namespace: 'perf-test:cache:outage',
      l3: { redis: server.url, commandTimeoutMs: 200 },
      ...options,
    });
    open.push(cache);
    expect(await cache.ready(5_000)).toBe(true);
    return cache;
  }

  /** Runs `fn` and returns how long it took; the test fails if it throws. */
  async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const start = Date.now();
    const value = await fn();
    return { value, ms: Date.now() - start };
  }

  beforeAll(async () => {
    await server.start();
  });

  afterEach(async () => {
    server.resume();
    for (const c of open.splice(0)) await c.close();
  });

  afterAll(async () => {
    server.resume();
    await server.kill();
  });

  it('killed and restarted mid-test: never throws, serves L1/L2 and the factory, then re-syncs without losing writes', async () => {
    const a = await make();
    const b = await make();
    await a.set('history:1', ['m1'], { ttlMs: 60_000 });
    expect(await b.get('history:1')).toEqual(['m1']);

    await server.kill();
    await waitFor(() => a.stats().errors > 0 || !a.stats().tiers.l3, 50).catch(() => undefined);

    // Every call resolves, promptly, while Redis is gone.
    const write = await timed(() => a.set('history:1', ['m1', 'm2'], { ttlMs: 60_000 }));
    expect(write.ms).toBeLessThan(1_000);
    const read = await timed(() => a.get('history:1'));
    expect(read.value).toEqual(['m1', 'm2']); // the writer never reads its old value
    expect(read.ms).toBeLessThan(1_000);
    const loaded = await timed(() => a.getOrSet('history:2', () => ['fresh'], { ttlMs: 60_000 }));
    expect(loaded.value).toEqual(['fresh']);
    expect(await a.delete('history:3')).toBe(false);
    await a.invalidateTags(['room:1']);
    await a.deleteByPrefix('nothing:');
    await a.getOrSet('locked', () => 'local', { lock: true });
    expect(await b.get('missing')).toBeUndefined();
    expect(a.stats().tiers.l3?.errors).toBeGreaterThan(0);

    await server.start();
    await waitFor(async () => (await a.ready(100)) && (await b.ready(100)), 10_000);
    await waitFor(() => a.stats().resyncs > 0 && b.stats().resyncs > 0, 5_000);
    // The write that missed Redis was replayed: the other instance reads it, not its old copy.
    await waitFor(async () => JSON.stringify(await b.get('history:1')) === '["m1","m2"]', 2_000);
    // A factory's value that missed Redis is written back too (unless Redis holds something newer).
    expect(await b.get('history:2')).toEqual(['fresh']);
    await a.clear();
  }, 30_000);

  it('a frozen Redis: each call gives up after commandTimeoutMs; a CircuitBreaker then skips Redis at once', async () => {
    const breaker = createCircuitBreaker({ name: 'cache-l3', failureThreshold: 3, halfOpenAfterMs: 300 });
    const cache = await make({ circuitBreaker: breaker, l1: false, l2: false });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');

    server.pause();
    const first = await timed(() => cache.get('k'));
    expect(first.value).toBeUndefined();
    expect(first.ms).toBeGreaterThanOrEqual(150);
    expect(first.ms).toBeLessThan(1_500);
    await cache.get('k');
    await cache.get('k');
    expect(breaker.state).toBe('open');
    const skipped = await timed(() => cache.get('k'));
    expect(skipped.value).toBeUndefined();
    expect(skipped.ms).toBeLessThan(100); // no Redis round trip, no timeout wait
    expect(breaker.stats().rejections).toBeGreaterThan(0);
    const written = await timed(() => cache.set('k2', 'v2'));
    expect(written.ms).toBeLessThan(100);

    server.resume();
    await new Promise((r) => setTimeout(r, 350));
    await waitFor(async () => (await cache.get('k')) === 'v', 3_000);
    expect(breaker.state).toBe('closed');
  }, 30_000);

  it('a write that timed out on a frozen Redis is replayed once Redis answers again (no reconnect needed)', async () => {
    const a = await make();
    const b = await make({ l1: false, l2: false, bus: false });
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    server.pause();
    await a.set('k', 'v2'); // times out in Redis: remembered
    expect(await a.get('k')).toBe('v2');
    server.resume();
    await waitFor(async () => {
      await a.get(`probe:${Math.random()}`); // any answered Redis call lets the replay run
      return (await b.get('k')) === 'v2';
    }, 5_000);
    await waitFor(() => a.stats().resyncs > 0, 5_000);
    await a.clear();
  }, 30_000);

  it('a write that missed Redis is replayed even when no local copy is left (l2: false, L1 copy expired)', async () => {
    const a = await make({ l2: false }); // L1 keeps its copy 100 ms
    const reader = await make({ l1: false, l2: false, bus: false });
    await a.set('k', 'v1', { ttlMs: 60_000 });
    await server.kill();
    await waitFor(async () => !(await a.ready(10)), 2_000);
    await a.set('k', 'v2', { ttlMs: 60_000 }); // misses Redis: remembered
    await new Promise((r) => setTimeout(r, 150)); // a's L1 copy is gone
    await server.start();
    await waitFor(() => a.stats().resyncs > 0, 10_000);
    await waitFor(() => reader.ready(100), 10_000);
    expect(await reader.get('k')).toBe('v2'); // not lost (nor replaced by a delete)
    await a.clear();
  }, 30_000);

  it('a write then a prefix delete or clear during an outage: the replay does not bring the value back', async () => {
    const a = await make();
    await server.kill();
    await waitFor(async () => !(await a.ready(10)), 2_000);
    await a.set('user:1', 'gone', { ttlMs: 60_000 });
    await a.set('other', 'gone too', { ttlMs: 60_000 });
    await a.deleteByPrefix('user:');
    await a.clear();
    await a.set('kept', 'after clear', { ttlMs: 60_000 });
    await server.start();
    await waitFor(() => a.stats().resyncs > 0, 10_000);
    const reader = await make({ l1: false, l2: false, bus: false });
    expect(await reader.get('user:1')).toBeUndefined();
    expect(await reader.get('other')).toBeUndefined();
    expect(await reader.get('kept')).toBe('after clear');
    await a.clear();
  }, 30_000);

  it('a write that missed Redis is not replayed over a later delete another instance made', async () => {
    const a = await make();
    const b = await make();
    const reader = await make({ l1: false, l2: false, bus: false });
    server.pause();
    await a.set('k', 'a-during-outage'); // times out: pending in a
    server.resume();
    await new Promise((r) => setTimeout(r, 50));
    await b.delete('k'); // newer; a hears of it on the bus
    await waitFor(() => a.stats().busMessagesReceived > 0, 2_000);
    await waitFor(async () => {
      await a.get(`probe:${Math.random()}`); // lets a replay
      return a.stats().resyncs > 0;
    }, 5_000);
    expect(await reader.get('k')).toBeUndefined();
    await a.clear();
  }, 30_000);

  it('past maxPendingSync the re-sync drops the namespace in Redis (a miss, never a stale read)', async () => {
    const a = await make({ maxPendingSync: 2 });
    await server.kill();
    await waitFor(async () => !(await a.ready(10)), 2_000);
    for (const k of ['x', 'y', 'z']) await a.set(k, `${k}-during`, { ttlMs: 60_000 }); // the third overflows
    await server.start();
    const reader = await make({ l1: false, l2: false, bus: false });
    await waitFor(() => a.stats().resyncs > 0, 10_000);
    for (const k of ['x', 'y', 'z']) expect(await reader.get(k)).toBeUndefined();
    expect(await a.get('x')).toBeUndefined(); // L1/L2 dropped too
    await a.set('x', 'after', { ttlMs: 60_000 });
    expect(await reader.get('x')).toBe('after'); // Redis is used again
    await a.clear();
  }, 30_000);

  it('drops L1 on reconnect: a copy that may have missed invalidations is not served after Redis returns', async () => {
    const b = await make({ l1: { ttlMs: 60_000 }, l2: false });
    await b.set('k', 'old', { ttlMs: 60_000 });
    expect(await b.get('k')).toBe('old'); // from L1
    await server.kill();
    await waitFor(async () => !(await b.ready(10)), 2_000);
    await server.start();
    await waitFor(() => b.stats().resyncs > 0, 10_000);
    // Another instance writes without a bus notice: only a dropped L1 lets b see it.
    const c = await make({ l1: false, l2: false, bus: false });
    await c.set('k', 'new', { ttlMs: 60_000 });
    expect(await b.get('k')).toBe('new');
    await c.clear();
  }, 30_000);

  it('a replayed write never overwrites a newer write another instance made after Redis came back', async () => {
    const a = await make();
    const b = await make();
    const reader = await make({ l1: false, l2: false, bus: false });
    await a.set('k', 'first');
    server.pause();
    await a.set('k', 'a-during-outage'); // missed Redis: pending in a
    server.resume();
    await b.set('k', 'b-after-recovery'); // newer, written straight to Redis
    await waitFor(async () => {
      await a.get(`probe:${Math.random()}`); // lets a replay
      return a.stats().resyncs > 0;
    }, 5_000);
    expect(await reader.get('k')).toBe('b-after-recovery');
    await a.clear();
  }, 30_000);

  it('a frozen Redis without a breaker: getOrSet still answers from the factory within the bound', async () => {
    const cache = await make({ l1: false, l2: false });
    server.pause();
    const result = await timed(() => cache.getOrSet('k', () => 'from-factory'));
    expect(result.value).toBe('from-factory');
    expect(result.ms).toBeLessThan(2_000);
    expect(cache.stats().errors).toBeGreaterThan(0);
  }, 30_000);
});
