import { trace } from '@opentelemetry/api';
import { isPerfAbortError, isPerfTimeoutError, ManualClock, type PerfEvent, subscribeAll } from '@perf/core';
import { Deduplicator } from '@perf/dedup';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBusMessage } from '../src/bus.js';
import { eitherSignal } from '../src/either-signal.js';
import { createCache, type Serializer, type TieredCache } from '../src/index.js';
import { TagRegistry } from '../src/tag-registry.js';
import { recordSpanNames } from './support/span-names.js';

const open: TieredCache[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});
function track(cache: TieredCache): TieredCache {
  open.push(cache);
  return cache;
}

describe('a failing L2 store', () => {
  const failing = {
    get: async () => {
      throw new Error('disk gone');
    },
    set: async () => {
      throw new Error('disk gone');
    },
    delete: async () => {
      throw new Error('disk gone');
    },
    clear: async () => {
      throw new Error('disk gone');
    },
  };

  it('never throws to callers: reads miss, writes carry on, errors are counted and published', async () => {
    const cache = track(createCache({ l1: false, l2: { store: failing as never } }));
    const events: PerfEvent[] = [];
    const off = subscribeAll((e) => events.push(e));
    try {
      await cache.set('k', 1);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
      await cache.delete('k');
      await cache.clear();
    } finally {
      off();
    }
    expect(cache.stats().tiers.l2?.errors).toBeGreaterThan(0);
    expect(events.some((e) => e.channel === 'perf:cache:error' && e.payload.source === 'l2')).toBe(true);
  });
});

describe('options given by the user', () => {
  it('uses a custom serializer for L2', async () => {
    const calls: string[] = [];
    const json: Serializer = {
      serialize: (v) => {
        calls.push('serialize');
        return Buffer.from(JSON.stringify(v));
      },
      deserialize: (b) => {
        calls.push('deserialize');
        return JSON.parse(Buffer.from(b).toString());
      },
    };
    const cache = track(createCache({ l1: false, serializer: json }));
    await cache.set('k', { a: 1 });
    expect(await cache.get('k')).toEqual({ a: 1 });
    expect(calls).toEqual(['serialize', 'deserialize']);
  });

  it('uses a given Deduplicator (any @perf/core Deduplicator) for getOrSet', async () => {
    const dedup = new Deduplicator({ name: 'mine' });
    const cache = track(createCache({ deduplicator: dedup }));
    await Promise.all([cache.getOrSet('k', async () => 1), cache.getOrSet('k', async () => 1)]);
    expect(dedup.stats()).toMatchObject({ total: 2, leaders: 1, followers: 1 });
    dedup.close();
  });
});

describe('cancellation and cleanup', () => {
  it("a caller's AbortSignal rejects its own wait; the factory still fills the cache for others", async () => {
    const cache = track(createCache());
    const controller = new AbortController();
    let finish!: (v: string) => void;
    const factory = () => new Promise<string>((r) => (finish = r));
    const aborted = cache.getOrSet('k', factory, { signal: controller.signal });
    const other = cache.getOrSet('k', factory);
    await new Promise((r) => setImmediate(r));
    controller.abort(new Error('user left'));
    const error = await aborted.catch((e: unknown) => e);
    expect(isPerfAbortError(error)).toBe(true);
    finish('done');
    expect(await other).toBe('done');
    expect(await cache.get('k')).toBe('done');
  });

  it("a factory outliving the Deduplicator's in-flight limit rejects with PerfTimeoutError and is not cached", async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ timeoutMs: 50, clock });
    const cache = track(createCache({ clock, deduplicator: dedup }));
    let signal: AbortSignal | undefined;
    const pending = cache.getOrSet('k', (ctx) => {
      signal = ctx.signal;
      return new Promise<string>(() => undefined);
    });
    await new Promise((r) => setImmediate(r));
    clock.advance(50);
    const error = await pending.catch((e: unknown) => e);
    expect(isPerfTimeoutError(error)).toBe(true);
    expect(signal?.aborted).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    dedup.close();
  });

  it('leaves no timer behind after close (ManualClock)', async () => {
    const clock = new ManualClock();
    const cache = createCache({ clock, graceMs: 1_000, softTimeoutMs: 10 });
    await cache.getOrSet('a', () => 1, { ttlMs: 5 });
    clock.advance(10);
    await cache.getOrSet('a', () => 2);
    await cache.set('b', 2);
    await cache.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('close() with Redis never reachable', () => {
  it('settles a pending ready() and leaves no listener on a client it does not own', async () => {
    // Nothing listens on port 1: the client never becomes ready.
    const client = new Redis({ port: 1, lazyConnect: true, retryStrategy: () => 1_000 });
    client.on('error', () => undefined);
    const cache = createCache({ l3: { redis: client }, bus: false });
    const listeners = () => client.eventNames().reduce((n, name) => n + client.listenerCount(name), 0);
    const pending = cache.ready(60_000);
    await cache.close();
    const settled = await Promise.race([pending, new Promise((r) => setTimeout(() => r('pending'), 200))]);
    expect(settled).toBe(false);
    expect(listeners()).toBe(1); // only the test's own 'error' listener
    client.disconnect();
  });
});

describe('tag registry bound', () => {
  it('forgets the oldest tags but treats entries older than what it forgot as invalidated', () => {
    const tags = new TagRegistry(2);
    tags.invalidate('a', 10);
    tags.invalidate('b', 20);
    tags.invalidate('c', 30); // forgets 'a' (time 10): floor 10
    expect(tags.size).toBe(2);
    expect(tags.isValid(['a'], 5)).toBe(false); // older than the forgotten invalidation
    expect(tags.isValid(['a'], 11)).toBe(true);
    expect(tags.isValid(['zzz'], 9)).toBe(false); // unknown tag, older than the floor: miss, never stale
    expect(tags.isValid(['b'], 20)).toBe(false);
    expect(tags.isValid(['b', 'c'], 31)).toBe(true);
    tags.invalidate('c', 25); // never moves backwards
    expect(tags.isValid(['c'], 28)).toBe(false);
  });
});

describe('bus messages', () => {
  it('parses well-formed messages and refuses anything else', () => {
    expect(parseBusMessage(JSON.stringify({ from: 'x', kind: 'delete', target: 'k' }))).toMatchObject({
      from: 'x',
      kind: 'delete',
      target: 'k',
    });
    expect(parseBusMessage(JSON.stringify({ from: 'x', kind: 'tags', tags: ['a'], at: 5 }))).toMatchObject({
      tags: ['a'],
      at: 5,
    });
    for (const bad of [
      'not json',
      'null',
      JSON.stringify({ kind: 'delete' }),
      JSON.stringify({ from: 'x', kind: 'explode' }),
      JSON.stringify({ from: 'x', kind: 'delete', target: 5 }),
      JSON.stringify({ from: 'x', kind: 'tags', tags: [1] }),
      JSON.stringify({ from: 'x', kind: 'tags', tags: ['a'], at: 'now' }),
    ]) {
      expect(parseBusMessage(bad)).toBeUndefined();
    }
  });
});

describe('spans through the OpenTelemetry API', () => {
  afterEach(() => {
    trace.disable();
  });

  it('starts a span per factory call and none on L1 hits', async () => {
    const started = recordSpanNames();
    const cache = track(createCache());
    await cache.getOrSet('k', () => 1);
    await cache.getOrSet('k', () => 1);
    await cache.get('k');
    // (the Deduplicator adds its own spans; only the cache's are checked here)
    expect(started.filter((name) => name.startsWith('cache.'))).toEqual(['cache.factory']);
  });
});

describe('eitherSignal', () => {
  it.each([
    ['AbortSignal.any', true],
    ['the fallback (Node < 20.3)', false],
  ])('aborts when either input aborts, with its reason (%s)', (_name, native) => {
    const original = AbortSignal.any;
    if (!native) (AbortSignal as { any?: unknown }).any = undefined;
    try {
      const a = new AbortController();
      const b = new AbortController();
      const either = eitherSignal(a.signal, b.signal);
      expect(either.aborted).toBe(false);
      b.abort('b went away');
      expect(either.aborted).toBe(true);
      expect(either.reason).toBe('b went away');
      const done = new AbortController();
      done.abort('early');
      expect(eitherSignal(done.signal, new AbortController().signal).reason).toBe('early');
    } finally {
      AbortSignal.any = original;
    }
  });
});
