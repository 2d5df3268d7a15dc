import { randomBytes } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { isPerfClosedError, type PerfEvent, subscribeAll } from '@perf/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_URL, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { type CreateCacheOptions, createCache, type TieredCache } from '../../src/index.js';
import { recordSpanNames } from '../support/span-names.js';

const RUN = randomBytes(4).toString('hex');
let seq = 0;
const namespaces = new Set<string>();
/** A namespace (= Redis key prefix) owned by this test run. */
function ns(): string {
  const name = `perf-test:cache:${RUN}:${++seq}`;
  namespaces.add(name);
  return name;
}

describe.skipIf(!(await redisAvailable()))('L3 on a shared Redis (integration)', () => {
  let admin: Redis;
  const open: TieredCache[] = [];

  async function make(options: Partial<CreateCacheOptions> & { namespace: string }): Promise<TieredCache> {
    const cache = createCache({ l3: { redis: REDIS_URL }, ...options });
    open.push(cache);
    expect(await cache.ready(5_000)).toBe(true);
    return cache;
  }

  async function keysOf(namespace: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  }

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });

  afterAll(async () => {
    for (const name of namespaces) {
      const keys = await keysOf(name);
      if (keys.length > 0) await admin.unlink(...keys);
    }
    await admin.quit();
  });

  it('shares values through Redis between instances, rich types intact', async () => {
    const namespace = ns();
    const a = await make({ namespace });
    const b = await make({ namespace });
    const value = {
      at: new Date(42),
      ids: new Set([1, 2]),
      counts: new Map([['x', 1n]]),
      raw: Buffer.from('hi'),
    };
    await a.set('k', value, { ttlMs: 60_000 });
    // (a bus notice arriving while b reads would, rightly, stop b from caching what it read)
    await waitFor(() => b.stats().busMessagesReceived === 1, 1_000);
    expect(await b.get('k')).toEqual(value);
    expect(b.stats().tiers.l3?.hits).toBe(1);
    expect(await b.get('k')).toEqual(value); // now from b's L1
    expect(b.stats().tiers.l1?.hits).toBe(1);
    const ttl = await admin.pttl(`${namespace}:v:k`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('the bus: a delete on one instance is seen by the others within 100 ms', async () => {
    const namespace = ns();
    const writer = await make({ namespace });
    const readers = [await make({ namespace }), await make({ namespace }), await make({ namespace })];
    const outsider = await make({ namespace: ns() }); // another namespace never hears it
    await writer.set('room:1', 'v1', { ttlMs: 60_000 });
    await outsider.set('room:1', 'other', { ttlMs: 60_000 });
    for (const r of readers) expect(await r.get('room:1')).toBe('v1');
    await writer.delete('room:1');
    const elapsed = await waitFor(async () => {
      for (const r of readers) if ((await r.get('room:1')) !== undefined) return false;
      return true;
    }, 100);
    expect(elapsed).toBeLessThanOrEqual(100);
    expect(await outsider.get('room:1')).toBe('other');
    expect(readers[0]!.stats().busMessagesReceived).toBeGreaterThanOrEqual(1);
    expect(writer.stats().busMessagesSent).toBeGreaterThanOrEqual(2);
  });

  it('the bus: a set on one instance replaces the others’ L1/L2 copies', async () => {
    const namespace = ns();
    const a = await make({ namespace, l1: { ttlMs: 60_000 } });
    const b = await make({ namespace, l1: { ttlMs: 60_000 } });
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2');
    await waitFor(async () => (await b.get('k')) === 'v2', 100);
  });

  it('tags invalidate across instances, through the bus and through Redis tag times', async () => {
    const namespace = ns();
    const a = await make({ namespace });
    const b = await make({ namespace });
    const noBus = await make({ namespace, bus: false, l2: false, l1: { ttlMs: 1 } });
    await a.set('msg:1', 'hello', { tags: ['room:7'], ttlMs: 60_000 });
    await a.set('msg:2', 'other', { tags: ['room:8'], ttlMs: 60_000 });
    expect(await b.get('msg:1')).toBe('hello');
    expect(await noBus.get('msg:1')).toBe('hello');
    await a.invalidateTags(['room:7']);
    await waitFor(async () => (await b.get('msg:1')) === undefined, 100);
    // an instance without the bus still checks the tag times stored in Redis on read
    await new Promise((r) => setTimeout(r, 5));
    expect(await noBus.get('msg:1')).toBeUndefined();
    expect(await noBus.get('msg:2')).toBe('other');
    expect(await admin.exists(`${namespace}:t:room:7`)).toBe(1);
  });

  it('deleteByPrefix and clear remove keys from Redis with SCAN, and nothing else', async () => {
    const namespace = ns();
    const a = await make({ namespace });
    const b = await make({ namespace });
    for (let i = 0; i < 30; i++) await a.set(`user:1:${i}`, i);
    await a.set('user:2:x', 'keep');
    await a.set('user*odd', 'glob chars are literal');
    expect(await b.get('user:1:3')).toBe(3);
    await a.deleteByPrefix('user:1:');
    expect((await keysOf(namespace)).sort()).toEqual([`${namespace}:v:user*odd`, `${namespace}:v:user:2:x`]);
    await waitFor(async () => (await b.get('user:1:3')) === undefined, 100);
    await a.deleteByPrefix('user*');
    expect(await keysOf(namespace)).toEqual([`${namespace}:v:user:2:x`]);
    await a.set('t', 1, { tags: ['x'] });
    await a.invalidateTags(['x']);
    await a.clear();
    expect(await keysOf(namespace)).toEqual([]);
    expect(await b.get('user:2:x')).toBeUndefined();
  });

  it('a scope on L3 is cleared on its own', async () => {
    const namespace = ns();
    const cache = await make({ namespace });
    const s1 = cache.scope('session:1');
    await s1.set('cart', [1]);
    await cache.scope('session:2').set('cart', [2]);
    expect(await admin.exists(`${namespace}:v:session:1:cart`)).toBe(1);
    await s1.clear();
    expect(await keysOf(namespace)).toEqual([`${namespace}:v:session:2:cart`]);
  });

  it('lock: true runs the factory once across instances', async () => {
    const namespace = ns();
    const instances = [await make({ namespace }), await make({ namespace }), await make({ namespace })];
    let runs = 0;
    const factory = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      return 'computed';
    };
    const calls = instances.flatMap((c) =>
      Array.from({ length: 50 }, () => c.getOrSet('cold', factory, { lock: true })),
    );
    const values = await Promise.all(calls);
    expect(values.every((v) => v === 'computed')).toBe(true);
    expect(runs).toBe(1);
    expect(instances.reduce((n, c) => n + c.stats().lockAcquired, 0)).toBe(1);
    // Released (compare-and-delete) once the value is in Redis: the holder's write-back runs in the
    // background, so the release may come just after its callers got the value.
    await waitFor(async () => (await admin.exists(`${namespace}:l:cold`)) === 0, 2_000);
  });

  it('lock: a holder that served its grace value on soft timeout keeps the lock until its factory lands; a waiter serves grace after its soft timeout', async () => {
    const namespace = ns();
    const a = await make({ namespace });
    const b = await make({ namespace });
    await a.set('k', 'old', { ttlMs: 50, graceMs: 60_000 });
    await new Promise((r) => setTimeout(r, 80)); // expired everywhere, still in grace
    let runs = 0;
    const factory = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 600));
      return 'new';
    };
    const options = { lock: true, softTimeoutMs: 50, graceMs: 60_000 };
    expect(await a.getOrSet('k', factory, options)).toBe('old'); // a's factory goes on in the background
    // b waits for a's lock, but no longer than its own soft timeout: it has a grace value to serve.
    const started = Date.now();
    expect(await b.getOrSet('k', factory, options)).toBe('old');
    expect(Date.now() - started).toBeLessThan(400);
    await waitFor(async () => (await b.get('k')) === 'new', 2_000);
    expect(runs).toBe(1);
    await waitFor(async () => (await admin.exists(`${namespace}:l:k`)) === 0, 2_000); // released once the value landed
  });

  it('lock: close() ends a wait for another holder with PerfClosedError, without running the factory', async () => {
    const namespace = ns();
    const cache = createCache({ namespace, l3: { redis: REDIS_URL, lockWaitMs: 5_000 } });
    expect(await cache.ready(5_000)).toBe(true);
    await admin.set(`${namespace}:l:k`, 'someone-else', 'PX', 5_000);
    let runs = 0;
    const pending = cache.getOrSet(
      'k',
      () => {
        runs++;
        return 'mine';
      },
      { lock: true },
    );
    const outcome = pending.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await new Promise((r) => setTimeout(r, 60));
    await cache.close();
    expect(isPerfClosedError(await outcome)).toBe(true);
    expect(runs).toBe(0);
  });

  it('lock: a waiter whose wait runs out runs the factory itself (bounded wait, fallback)', async () => {
    const namespace = ns();
    const cache = await make({ namespace, l3: { redis: REDIS_URL, lockWaitMs: 100, lockPollMs: 10 } });
    await admin.set(`${namespace}:l:k`, 'someone-else', 'PX', 5_000);
    const started = Date.now();
    expect(await cache.getOrSet('k', () => 'mine', { lock: true })).toBe('mine');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cache.stats().lockWaitTimeouts).toBe(1);
    expect(await admin.get(`${namespace}:l:k`)).toBe('someone-else'); // never deletes another holder's lock
  });

  it('reads corrupted or foreign bytes in Redis as a counted miss, and recovers on the next write', async () => {
    const namespace = ns();
    const cache = await make({ namespace });
    const events: PerfEvent[] = [];
    const off = subscribeAll((e) => events.push(e));
    try {
      await admin.set(`${namespace}:v:bad`, Buffer.from([0x50, 0x43, 1, 0xff, 0xff]));
      await admin.set(`${namespace}:v:foreign`, '{"json":"from someone else"}');
      expect(await cache.get('bad')).toBeUndefined();
      expect(await cache.get('foreign')).toBeUndefined();
      expect(await cache.getOrSet('foreign', () => 'fixed')).toBe('fixed');
    } finally {
      off();
    }
    expect(cache.stats().corruptReads).toBe(3);
    expect(events.some((e) => e.channel === 'perf:cache:error' && e.payload.kind === 'corrupt')).toBe(true);
    const other = await make({ namespace });
    expect(await other.get('foreign')).toBe('fixed');
  });

  it('stores and reads a huge value (8 MB) through L3', async () => {
    const namespace = ns();
    const a = await make({ namespace, l1: { maxBytes: 1_000_000 } });
    const b = await make({ namespace, l2: false });
    const huge = { blob: Buffer.alloc(8 * 1024 * 1024, 7), text: 'x'.repeat(100_000) };
    await a.set('huge', huge);
    const read = await b.get<typeof huge>('huge');
    expect(read?.blob.length).toBe(huge.blob.length);
    expect(read?.text).toBe(huge.text);
  });

  it('100 concurrent L3 gets share one MGET round trip; a lone get is a plain GET', async () => {
    const namespace = ns();
    const a = await make({ namespace });
    await a.warm(Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: { i } })));
    const client = new Redis(REDIS_URL);
    const mget = vi.spyOn(client, 'mgetBuffer');
    const get = vi.spyOn(client, 'getBuffer');
    const b = await make({ namespace, l3: { redis: client } });
    const values = await Promise.all(Array.from({ length: 100 }, (_, i) => b.get<{ i: number }>(`k${i}`)));
    expect(values.map((v) => v?.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(b.stats().tiers.l3?.hits).toBe(100);
    expect(mget).toHaveBeenCalledTimes(1);
    expect(mget.mock.calls[0]).toHaveLength(100);
    expect(get).not.toHaveBeenCalled();
    expect(await b.get('missing')).toBeUndefined();
    expect(get).toHaveBeenCalledTimes(1);
    await b.close();
    await client.quit();
  });

  it('emits a client span per Redis command through the OpenTelemetry API', async () => {
    const names = recordSpanNames();
    try {
      const cache = await make({ namespace: ns(), l1: false, l2: false, bus: false });
      await cache.set('k', 1);
      await cache.get('k');
      await Promise.all([cache.get('a'), cache.get('b')]);
    } finally {
      trace.disable();
    }
    expect(names).toEqual(['cache.l3 set', 'cache.l3 get', 'cache.l3 mget']);
  });

  it('connects a lazyConnect client it was given', async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    const namespace = ns();
    const cache = createCache({ namespace, l3: { redis: client }, bus: false });
    expect(await cache.ready()).toBe(true);
    await cache.set('k', 'v');
    expect(await admin.exists(`${namespace}:v:k`)).toBe(1);
    await cache.close();
    await client.quit();
  });

  it('accepts a Redis client it does not own, and leaves it open on close', async () => {
    const client = new Redis(REDIS_URL);
    const listeners = () => client.eventNames().reduce((n, name) => n + client.listenerCount(name), 0);
    const before = listeners();
    const namespace = ns();
    const cache = createCache({ namespace, l3: { redis: client } });
    const subscribers = async () =>
      Number(((await admin.pubsub('NUMSUB', `perf-cache:bus:${namespace}`)) as unknown[])[1]);
    expect(await cache.ready()).toBe(true);
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(await subscribers()).toBe(1); // the bus' own duplicate connection
    await cache.scope('s').close(); // a scope's close() does nothing: the root owns the resources
    expect(await cache.get('k')).toBe(1);
    expect(await subscribers()).toBe(1);
    await cache.close();
    expect(listeners()).toBe(before); // nothing left on a client the cache does not own
    await waitFor(async () => (await subscribers()) === 0, 2_000); // the bus connection is gone
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });
});
