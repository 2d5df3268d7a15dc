/** `createCache`: validates options, builds the tiers, returns the root `TieredCache`. */
import { CacheCore } from './cache-core.js';
import { type CreateCacheOptions, resolveOptions } from './options.js';
import { TieredCache } from './tiered-cache.js';

/**
 * Creates a multi-tier cache: L1 memory (a compact LRU) → L2 Keyv → L3 Redis (ioredis), each optional.
 * With no `l3` it is a complete in-process cache; nothing needs Redis to work.
 *
 * @example
 * const cache = createCache({ namespace: 'chat', l3: { redis: 'redis://127.0.0.1:6379' } });
 * const history = await cache.getOrSet(`history:${id}`, () => db.history(id), { ttlMs: 60_000 });
 *
 * @throws {PerfConfigError} naming the first invalid option (e.g. `l1.maxEntries`), before anything is built.
 */
export function createCache(options?: CreateCacheOptions): TieredCache {
  const core = new CacheCore(resolveOptions(options));
  return new TieredCache(core, '', core.namespace);
}
