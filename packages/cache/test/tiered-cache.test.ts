import {
  type CacheFactory,
  isPerfAbortError,
  isPerfClosedError,
  isPerfConfigError,
  isPerfSerializationError,
  ManualClock,
  type PerfEvent,
  subscribeAll,
} from '@perf/core';
import { Keyv } from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { type CreateCacheOptions, createCache, type TieredCache } from '../src/index.js';

const open: TieredCache[] = [];
function make(options: CreateCacheOptions = {}): { cache: TieredCache; clock: ManualClock } {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(1_000_000);
  const cache = createCache({ clock, ...options });
  open.push(cache);
  return { cache, clock };
}

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('get / set / delete / has', () => {
  it('stores and reads values, undefined for a missing key', async () => {
    const { cache } = make();
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('a', { id: 1, text: 'hello' });
    expect(await cache.get('a')).toEqual({ id: 1, text: 'hello' });
    expect(await cache.has('a')).toBe(true);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.has('a')).toBe(false);
  });

  it('has() is true for a cached undefined', async () => {
    const { cache } = make();
    await cache.set('u', undefined);
    expect(await cache.has('u')).toBe(true);
  });

  it('expires values after their TTL (defaultTtlMs or per set)', async () => {
    const { cache, clock } = make({ defaultTtlMs: 1_000 });
    await cache.set('d', 1);
    await cache.set('short', 2, { ttlMs: 100 });
    clock.advance(99);
    expect(await cache.get('short')).toBe(2);
    clock.advance(1);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('d')).toBe(1);
    clock.advance(900);
    expect(await cache.get('d')).toBeUndefined();
  });

  it('answers from L2 once the short L1 copy is gone, and backfills L1', async () => {
    const { cache, clock } = make({ l1: { ttlMs: 50 }, l2: {} });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    clock.advance(60);
    expect(await cache.get('k')).toBe('v'); // from L2
    expect(await cache.get('k')).toBe('v'); // from L1 again
    const s = cache.stats();
    expect(s.tiers.l1).toMatchObject({ hits: 2, misses: 1 });
    expect(s.tiers.l2).toMatchObject({ hits: 1, misses: 0 });
    expect(s.tiers.l1?.sets).toBe(2);
    expect(s.hits).toBe(3);
    expect(s.hitRate).toBe(1);
  });

  it('L1-only: keeps values for their whole TTL and still works with no L2', async () => {
    const { cache, clock } = make({ l2: false, defaultTtlMs: 10_000 });
    await cache.set('k', 'v');
    clock.advance(5_000);
    expect(await cache.get('k')).toBe('v');
    expect(Object.keys(cache.stats().tiers)).toEqual(['l1']);
  });

  it('L2-only (l1: false) serializes, so callers get copies', async () => {
    const { cache } = make({ l1: false, l2: {} });
    const value = { n: 1, at: new Date(5), tags: new Set(['x']) };
    await cache.set('k', value);
    const read = await cache.get<typeof value>('k');
    expect(read).toEqual(value);
    expect(read).not.toBe(value);
  });

  it('bounds L1 by entries (LRU) and by bytes', async () => {
    const { cache, clock } = make({ l1: { maxEntries: 2, ttlMs: 10_000 }, l2: false });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);
    const bytes = make({ l1: { maxBytes: 200, ttlMs: 10_000 }, l2: false, clock });
    await bytes.cache.set('big', 'x'.repeat(1_000));
    expect(await bytes.cache.get('big')).toBeUndefined(); // larger than the whole bound: not kept
    await bytes.cache.set('small', 'y');
    expect(await bytes.cache.get('small')).toBe('y');
  });

  it('bounds the default in-memory L2 by entries, oldest write first', async () => {
    const { cache } = make({ l1: false, l2: { maxEntries: 3 } });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await cache.set(k, k);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe('c');
    expect(await cache.get('e')).toBe('e');
  });

  it('refuses an unserializable value with a typed error and writes nothing', async () => {
    const { cache } = make({ l2: {} });
    await cache.set('k', 'old');
    const error = await rejection(cache.set('k', { fn: () => 1 }));
    expect(isPerfSerializationError(error)).toBe(true);
    expect(await cache.get('k')).toBe('old');
    expect(cache.stats().sets).toBe(1);
  });

  it('validates keys and per-call options with PerfConfigError naming the field', async () => {
    const { cache } = make();
    const e1 = await rejection(cache.get(5 as unknown as string));
    expect(isPerfConfigError(e1) && e1.field).toBe('key');
    const e2 = await rejection(cache.set('k', 1, { ttlMs: -1 }));
    expect(isPerfConfigError(e2) && e2.field).toBe('ttlMs');
    const e3 = await rejection(cache.set('k', 1, { tags: ['ok', ''] }));
    expect(isPerfConfigError(e3) && e3.field).toBe('tags[1]');
    const e4 = await rejection(cache.getOrSet('k', 'nope' as unknown as CacheFactory<number>));
    expect(isPerfConfigError(e4) && e4.field).toBe('factory');
    const e5 = await rejection(cache.getOrSet('k', () => 1, { softTimeoutMs: 0 }));
    expect(isPerfConfigError(e5) && e5.field).toBe('softTimeoutMs');
    const e6 = await rejection(cache.set('k', 1, { ttl: 5 } as never));
    expect(isPerfConfigError(e6) && e6.field).toBe('ttl');
    const e7 = await rejection(cache.getOrSet('k', () => 1, { softTimeoutMs: 2 ** 31 }));
    expect(isPerfConfigError(e7) && e7.field).toBe('softTimeoutMs');
    expect(() => cache.ready(2 ** 31)).toThrow(/timeoutMs/);
  });

  it('reads corrupted or foreign bytes in L2 as a counted miss, with an event', async () => {
    const store = new Map<string, unknown>();
    const { cache } = make({ l1: false, l2: { store }, namespace: 'corrupt' });
    await cache.set('k', 'v');
    const [storedKey] = [...store.keys()];
    expect(storedKey).toBe('corrupt:k');
    const events: PerfEvent[] = [];
    const off = subscribeAll((e) => events.push(e));
    try {
      store.set(storedKey!, JSON.stringify({ value: ':base64:aGVsbG8gd29ybGQ=', expires: null }));
      expect(await cache.get('k')).toBeUndefined();
      store.set(storedKey!, JSON.stringify({ value: 'not bytes', expires: null }));
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      off();
    }
    expect(cache.stats().corruptReads).toBe(2);
    expect(cache.stats().misses).toBe(2);
    const errors = events.filter((e) => e.channel === 'perf:cache:error');
    expect(errors.map((e) => e.channel === 'perf:cache:error' && e.payload.kind)).toEqual([
      'corrupt',
      'corrupt',
    ]);
  });

  it('works with a Keyv instance as L2 and round-trips rich values through Keyv serialization', async () => {
    const keyv = new Keyv({ store: new Map(), namespace: 'given' });
    const { cache } = make({ l1: false, l2: { store: keyv } });
    const value = { when: new Date(7), ids: new Set([1n, 2n]), raw: Buffer.from([9, 8]) };
    await cache.set('k', value);
    expect(await cache.get('k')).toEqual(value);
  });

  it('throws PerfClosedError after close, and close is idempotent', async () => {
    const { cache } = make();
    await cache.close();
    await cache.close();
    expect(isPerfClosedError(await rejection(cache.get('k')))).toBe(true);
    expect(isPerfClosedError(await rejection(cache.set('k', 1)))).toBe(true);
    expect(isPerfClosedError(await rejection(cache.getOrSet('k', () => 1)))).toBe(true);
  });
});

describe('events', () => {
  it('publishes hit, miss, set, delete and operation events with the namespace', async () => {
    const { cache } = make({ namespace: 'ev', l2: {} });
    const events: PerfEvent[] = [];
    const off = subscribeAll((e) => events.push(e));
    try {
      await cache.get('k');
      await cache.set('k', 1, { ttlMs: 100 });
      await cache.get('k');
      await cache.delete('k');
    } finally {
      off();
    }
    const names = events.map((e) => e.channel);
    expect(names).toContain('perf:cache:miss');
    expect(names).toContain('perf:cache:hit');
    expect(names).toContain('perf:cache:set');
    expect(names).toContain('perf:cache:delete');
    const set = events.find((e) => e.channel === 'perf:cache:set');
    expect(set?.payload).toMatchObject({
      namespace: 'ev',
      key: 'k',
      tiers: ['l1', 'l2'],
      ttlMs: 100,
      reason: 'set',
    });
    const ops = events.filter((e) => e.channel === 'perf:cache:operation').map((e) => e.payload);
    expect(ops.map((p) => ('operation' in p ? p.operation : ''))).toEqual(['get', 'set', 'get', 'delete']);
    expect(ops[0]).toMatchObject({ result: 'miss' });
    expect(ops[2]).toMatchObject({ result: 'l1' });
  });

  it('an observed L1 hit (get and getOrSet) is one hit event and one timed operation event, nothing else', async () => {
    const { cache } = make({ namespace: 'ev2' });
    await cache.set('k', 'v', { ttlMs: 1_000 });
    const events: PerfEvent[] = [];
    const off = subscribeAll((e) => events.push(e));
    try {
      expect(await cache.get('k')).toBe('v');
      expect(await cache.getOrSet('k', () => 'other')).toBe('v');
    } finally {
      off();
    }
    expect(events.map((e) => e.channel)).toEqual([
      'perf:cache:hit',
      'perf:cache:operation',
      'perf:cache:hit',
      'perf:cache:operation',
    ]);
    const [, get, , getOrSet] = events.map((e) => e.payload);
    expect(get).toMatchObject({ namespace: 'ev2', operation: 'get', result: 'l1' });
    expect(getOrSet).toMatchObject({ namespace: 'ev2', operation: 'getOrSet', result: 'l1' });
    expect((get as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 0, factoryRuns: 0 });
  });
});

describe('getOrSet', () => {
  it('runs the factory once for 1,000 concurrent misses and caches the value', async () => {
    const { cache } = make();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const factory = async () => {
      runs++;
      await gate;
      return { answer: 42 };
    };
    const all = Array.from({ length: 1_000 }, () => cache.getOrSet('cold', factory));
    await new Promise((r) => setImmediate(r));
    release();
    const values = await Promise.all(all);
    expect(runs).toBe(1);
    expect(values.every((v) => v.answer === 42)).toBe(true);
    expect(await cache.getOrSet('cold', factory)).toEqual({ answer: 42 });
    expect(runs).toBe(1);
    expect(cache.stats().factoryRuns).toBe(1);
  });

  it('passes key and an AbortSignal to the factory, and rethrows its error when nothing is in grace', async () => {
    const { cache } = make();
    let seen: { key: string; aborted: boolean } | undefined;
    const boom = new Error('db down');
    const error = await rejection(
      cache.getOrSet('k', ({ key, signal }) => {
        seen = { key, aborted: signal.aborted };
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(seen).toEqual({ key: 'k', aborted: false });
    expect(cache.stats().factoryErrors).toBe(1);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('serves the expired value from grace when the factory fails (fail-safe)', async () => {
    const { cache, clock } = make();
    expect(await cache.getOrSet('k', () => 'v1', { ttlMs: 100, graceMs: 1_000 })).toBe('v1');
    clock.advance(200);
    const value = await cache.getOrSet(
      'k',
      ({ stale }) => {
        expect(stale).toBe('v1');
        throw new Error('down');
      },
      { ttlMs: 100, graceMs: 1_000 },
    );
    expect(value).toBe('v1');
    expect(cache.stats().staleServed).toBe(1);
    clock.advance(1_000); // past grace
    await expect(
      cache.getOrSet(
        'k',
        () => {
          throw new Error('still down');
        },
        { ttlMs: 100 },
      ),
    ).rejects.toThrow('still down');
  });

  it('answers from grace after softTimeoutMs while the factory finishes in the background', async () => {
    const { cache, clock } = make();
    await cache.getOrSet('k', () => 'v1', { ttlMs: 100, graceMs: 10_000 });
    clock.advance(150);
    let finish!: (v: string) => void;
    const slow = new Promise<string>((r) => {
      finish = r;
    });
    const pending = cache.getOrSet('k', () => slow, { ttlMs: 100, graceMs: 10_000, softTimeoutMs: 50 });
    await new Promise((r) => setImmediate(r));
    clock.advance(50);
    expect(await pending).toBe('v1');
    // while the refresh runs, callers keep getting the stale value without a second factory
    let second = 0;
    expect(
      await cache.getOrSet(
        'k',
        () => {
          second++;
          return 'x';
        },
        { softTimeoutMs: 50, graceMs: 10_000 },
      ),
    ).toBe('v1');
    expect(second).toBe(0);
    finish('v2');
    await new Promise((r) => setTimeout(r, 5));
    expect(await cache.get('k')).toBe('v2');
    expect(cache.stats().staleServed).toBe(2);
  });

  it('eager refresh: a hit past the threshold refreshes in the background', async () => {
    const { cache, clock } = make({ eagerRefresh: 0.5 });
    let version = 0;
    const factory = async () => `v${++version}`;
    expect(await cache.getOrSet('k', factory, { ttlMs: 1_000 })).toBe('v1');
    clock.advance(400);
    expect(await cache.getOrSet('k', factory, { ttlMs: 1_000 })).toBe('v1');
    expect(version).toBe(1);
    clock.advance(200); // 60% of the TTL
    expect(await cache.getOrSet('k', factory, { ttlMs: 1_000 })).toBe('v1');
    await new Promise((r) => setTimeout(r, 5));
    expect(version).toBe(2);
    expect(await cache.get('k')).toBe('v2');
    expect(cache.stats().eagerRefreshes).toBe(1);
  });

  it('eager refresh: a failing refresh keeps the current value and counts no stale serve', async () => {
    const { cache, clock } = make({ eagerRefresh: 0.5 });
    expect(await cache.getOrSet('k', () => 'v1', { ttlMs: 1_000 })).toBe('v1');
    clock.advance(600);
    const failing = async () => {
      throw new Error('refresh failed');
    };
    expect(await cache.getOrSet('k', failing, { ttlMs: 1_000 })).toBe('v1');
    await new Promise((r) => setTimeout(r, 5));
    expect(await cache.get('k')).toBe('v1');
    expect(cache.stats()).toMatchObject({ factoryErrors: 1, staleServed: 0, eagerRefreshes: 1 });
  });

  it('does not let a factory that started before a delete or set overwrite it', async () => {
    const { cache } = make();
    let finish!: (v: string) => void;
    const pending = cache.getOrSet('k', () => new Promise<string>((r) => (finish = r)));
    await new Promise((r) => setImmediate(r));
    await cache.set('k', 'written-later');
    finish('computed-earlier');
    expect(await pending).toBe('computed-earlier');
    expect(await cache.get('k')).toBe('written-later');
  });

  it.each(['delete', 'clear', 'deleteByPrefix'] as const)(
    'does not let a factory that started before %s resurrect the old value',
    async (op) => {
      const { cache } = make();
      let finish!: (v: string) => void;
      const pending = cache.getOrSet('k', () => new Promise<string>((r) => (finish = r)));
      await new Promise((r) => setImmediate(r));
      if (op === 'delete') await cache.delete('k');
      else if (op === 'clear') await cache.clear();
      else await cache.deleteByPrefix('k');
      finish('computed-before');
      expect(await pending).toBe('computed-before');
      expect(await cache.get('k')).toBeUndefined();
    },
  );

  it('close() aborts the signal of a running factory', async () => {
    const { cache } = make();
    let signal: AbortSignal | undefined;
    const pending = cache.getOrSet('k', (ctx) => {
      signal = ctx.signal;
      return new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
      );
    });
    await new Promise((r) => setImmediate(r));
    await cache.close();
    expect(signal?.aborted).toBe(true);
    expect(isPerfClosedError(await rejection(pending))).toBe(true);
  });
});

describe('tags, prefixes, clear, scopes', () => {
  it('invalidateTags hides every entry carrying a tag, in every tier, without touching others', async () => {
    const { cache, clock } = make({ l1: { ttlMs: 10 }, l2: {} });
    await cache.set('a', 1, { tags: ['user:1'] });
    await cache.set('b', 2, { tags: ['user:1', 'room:9'] });
    await cache.set('c', 3, { tags: ['room:9'] });
    await cache.set('d', 4);
    await cache.invalidateTags(['user:1']);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBeUndefined();
    clock.advance(20); // L1 copies gone: L2 copies are checked too
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);
    expect(await cache.get('d')).toBe(4);
    await cache.set('a', 'new', { tags: ['user:1'] }); // written after the invalidation: visible
    expect(await cache.get('a')).toBe('new');
  });

  it('a factory that started before invalidateTags does not resurrect old data', async () => {
    const { cache } = make();
    let finish!: (v: string) => void;
    const pending = cache.getOrSet('k', () => new Promise<string>((r) => (finish = r)), { tags: ['t'] });
    await new Promise((r) => setImmediate(r));
    await cache.invalidateTags(['t']);
    finish('old');
    expect(await pending).toBe('old');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('deleteByPrefix and clear drop matching keys from L1 and L2', async () => {
    const { cache, clock } = make({ l1: { ttlMs: 10 }, l2: {} });
    await cache.set('user:1:a', 1);
    await cache.set('user:1:b', 2);
    await cache.set('user:2:a', 3);
    await cache.deleteByPrefix('user:1:');
    clock.advance(20);
    expect(await cache.get('user:1:a')).toBeUndefined();
    expect(await cache.get('user:1:b')).toBeUndefined();
    expect(await cache.get('user:2:a')).toBe(3);
    await cache.clear();
    expect(await cache.get('user:2:a')).toBeUndefined();
  });

  it('scope(name) namespaces keys; clearing a scope drops only its keys', async () => {
    const { cache, clock } = make({ namespace: 'app', l1: { ttlMs: 10 }, l2: {} });
    const session = cache.scope('session:abc');
    const other = cache.scope('session:def');
    expect(session.namespace).toBe('app:session:abc');
    await session.set('cart', [1, 2]);
    await other.set('cart', [3]);
    await cache.set('cart', 'root');
    expect(await session.get('cart')).toEqual([1, 2]);
    expect(await cache.get('session:abc:cart')).toEqual([1, 2]);
    await session.clear();
    clock.advance(20);
    expect(await session.get('cart')).toBeUndefined();
    expect(await other.get('cart')).toEqual([3]);
    expect(await cache.get('cart')).toBe('root');
    expect(session.scope('tab').namespace).toBe('app:session:abc:tab');
  });

  it('two caches in one process never see each other', async () => {
    const { cache: a } = make({ namespace: 'same' });
    const { cache: b } = make({ namespace: 'same' });
    await a.set('k', 'a');
    expect(await b.get('k')).toBeUndefined();
  });
});

describe('warm', () => {
  it('writes entries from an iterable, an async iterable or a loader, with bounded concurrency', async () => {
    const { cache } = make();
    expect(
      await cache.warm([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, ttlMs: 50, tags: ['t'] },
      ]),
    ).toEqual({
      warmed: 2,
      failed: 0,
    });
    async function* gen() {
      for (let i = 0; i < 20; i++) yield { key: `g${i}`, value: i };
    }
    expect(await cache.warm(gen(), { concurrency: 3 })).toEqual({ warmed: 20, failed: 0 });
    expect(await cache.warm(async () => [{ key: 'l', value: 'loaded' }])).toEqual({ warmed: 1, failed: 0 });
    expect(await cache.get('b')).toBe(2);
    expect(await cache.get('g19')).toBe(19);
    expect(await cache.get('l')).toBe('loaded');
  });

  it('stops with PerfAbortError when its signal aborts', async () => {
    const { cache } = make();
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(cache.warm([{ key: 'a', value: 1 }], { signal: controller.signal }));
    expect(isPerfAbortError(error)).toBe(true);
  });

  it('counts refused entries and keeps going', async () => {
    const { cache } = make({ l2: {} });
    const result = await cache.warm([
      { key: 'ok', value: 1 },
      { key: 'bad', value: () => 1 },
      { key: 7 as unknown as string, value: 1 },
    ]);
    expect(result).toEqual({ warmed: 1, failed: 2 });
  });

  it('never runs more than `concurrency` writes at once', async () => {
    const clock = new ManualClock();
    let inFlight = 0;
    let peak = 0;
    const store = new Map<string, unknown>();
    const slowStore = {
      get: async (k: string) => store.get(k),
      set: async (k: string, v: unknown) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        store.set(k, v);
        return true;
      },
      delete: async (k: string) => store.delete(k),
      clear: async () => store.clear(),
    };
    const { cache } = make({ clock, l2: { store: slowStore as never } });
    const entries = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i }));
    expect((await cache.warm(entries, { concurrency: 4 })).warmed).toBe(30);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
  });
});

describe('createCache options', () => {
  it.each<[string, CreateCacheOptions, string]>([
    ['negative defaultTtlMs', { defaultTtlMs: -1 }, 'defaultTtlMs'],
    ['l1.maxEntries 0', { l1: { maxEntries: 0 } }, 'l1.maxEntries'],
    ['l1.maxBytes fraction', { l1: { maxBytes: 1.5 } }, 'l1.maxBytes'],
    ['unknown l1 key', { l1: { max: 5 } as never }, 'l1.max'],
    ['l2.store not a store', { l2: { store: 5 as never } }, 'l2.store'],
    ['l3.redis not a client', { l3: { redis: {} as never } }, 'l3.redis'],
    ['l3.redis bad URL', { l3: { redis: 'http://x' } }, 'l3.redis'],
    [
      'l3.commandTimeoutMs 0',
      { l3: { redis: 'redis://127.0.0.1:1', commandTimeoutMs: 0 } },
      'l3.commandTimeoutMs',
    ],
    // Node turns a timer delay above 2^31 - 1 ms into 1 ms: every Redis call would time out at once.
    [
      'l3.commandTimeoutMs past the timer limit',
      { l3: { redis: 'redis://127.0.0.1:1', commandTimeoutMs: 2 ** 31 } },
      'l3.commandTimeoutMs',
    ],
    [
      'l3.lockPollMs past the timer limit',
      { l3: { redis: 'redis://127.0.0.1:1', lockPollMs: 2 ** 31 } },
      'l3.lockPollMs',
    ],
    ['softTimeoutMs past the timer limit', { softTimeoutMs: 2 ** 31 }, 'softTimeoutMs'],
    ['bus without l3', { bus: true }, 'bus'],
    ['namespace with a glob', { namespace: 'a*' }, 'namespace'],
    ['eagerRefresh 1', { eagerRefresh: 1 }, 'eagerRefresh'],
    [
      'serializer missing deserialize',
      { serializer: { serialize: () => new Uint8Array() } as never },
      'serializer',
    ],
    ['typo', { defaultTTL: 5 } as never, 'defaultTTL'],
  ])('refuses %s', (_name, options, field) => {
    let caught: unknown;
    try {
      createCache(options);
    } catch (error) {
      caught = error;
    }
    expect(isPerfConfigError(caught)).toBe(true);
    expect((caught as { field: string }).field).toBe(field);
  });
});
