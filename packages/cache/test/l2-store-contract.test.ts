import { ManualClock } from '@perf/core';
import { Keyv } from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { type CreateCacheOptions, createCache, type TieredCache } from '../src/index.js';

/** A minimal Keyv store adapter over a Map, with async methods and no iterator (like many stores). */
function asyncAdapter() {
  const map = new Map<string, unknown>();
  return {
    get: async (k: string) => map.get(k),
    set: async (k: string, v: unknown) => {
      map.set(k, v);
      return true;
    },
    delete: async (k: string) => map.delete(k),
    clear: async () => map.clear(),
  };
}

// Every kind of L2 store runs the same contract (L1 off, so each read goes to the store).
// `exactPrefix`: Keyv can iterate the store, so prefix deletes drop exactly the prefix; otherwise
// the whole tier is cleared (more than asked, which is safe).
const stores: Array<[string, () => NonNullable<Exclude<CreateCacheOptions['l2'], false>>['store'], boolean]> =
  [
    ['the default bounded Map', () => undefined, true],
    ['a plain Map', () => new Map(), true],
    [
      'a Keyv instance (JSON serialization)',
      () => new Keyv({ store: new Map(), namespace: 'given:ns' }),
      true,
    ],
    ['an async adapter without iterator', () => asyncAdapter() as never, false],
  ];

describe.each(stores)('L2 store contract: %s', (_name, makeStore, exactPrefix) => {
  const open: TieredCache[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });
  function make(clock = new ManualClock()): TieredCache {
    const cache = createCache({ namespace: 'app:contract', clock, l1: false, l2: { store: makeStore() } });
    open.push(cache);
    return cache;
  }

  it('round-trips rich values', async () => {
    const cache = make();
    const value = {
      at: new Date(1),
      m: new Map([[1, new Set(['a'])]]),
      n: 10n,
      b: Buffer.from([1]),
      u: undefined,
    };
    await cache.set('k', value);
    expect(await cache.get('k')).toEqual(value);
  });

  it('expires by the cache clock, not the store', async () => {
    const clock = new ManualClock();
    const cache = make(clock);
    await cache.set('k', 1, { ttlMs: 100 });
    clock.advance(100);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('deletes one key, a prefix, a scope and everything', async () => {
    const cache = make();
    for (const k of ['a:1', 'a:2', 'b:1', 'c']) await cache.set(k, k);
    const scope = cache.scope('s');
    await scope.set('x', 'scoped');
    expect(await cache.delete('c')).toBe(true);
    expect(await cache.get('c')).toBeUndefined();
    await cache.deleteByPrefix('a:');
    expect(await cache.get('a:1')).toBeUndefined();
    expect(await cache.get('a:2')).toBeUndefined();
    expect(await cache.get('b:1')).toBe(exactPrefix ? 'b:1' : undefined);
    await scope.clear();
    expect(await scope.get('x')).toBeUndefined();
    await cache.clear();
    expect(await cache.get('b:1')).toBeUndefined();
  });

  it('keeps keys that merely look alike', async () => {
    const cache = make();
    await cache.set('user:10', 'ten');
    await cache.set('user:1', 'one');
    await cache.delete('user:1');
    // a store without iteration may drop more on prefix deletes, never less; single deletes are exact
    expect(await cache.get('user:10')).toBe('ten');
  });
});
