/** Payloads of the `perf:cache:*` channels, published by @perf/cache. */

export type CacheTier = 'l1' | 'l2' | 'l3';

interface CacheEventBase {
  /** The cache's namespace (scopes included, e.g. `app:session:abc`). */
  namespace: string;
}

export interface CacheHitEvent extends CacheEventBase {
  key: string;
  tier: CacheTier;
}

export interface CacheMissEvent extends CacheEventBase {
  key: string;
  tier: CacheTier;
}

export interface CacheSetEvent extends CacheEventBase {
  key: string;
  /** Tiers written. */
  tiers: readonly CacheTier[];
  ttlMs: number;
  /** Why the value was written. */
  reason: 'set' | 'factory' | 'backfill' | 'warm' | 'refresh';
}

export interface CacheDeleteEvent extends CacheEventBase {
  kind: 'key' | 'prefix' | 'clear';
  /** The key or prefix; absent for `clear`. */
  target?: string;
}

export interface CacheInvalidateEvent extends CacheEventBase {
  tags: readonly string[];
}

export interface CacheFactoryEvent extends CacheEventBase {
  key: string;
  durationMs: number;
  outcome: 'success' | 'error' | 'timeout';
}

export interface CacheStaleEvent extends CacheEventBase {
  key: string;
  /** Why the stale value was served instead of a fresh one. */
  reason: 'factory-error' | 'soft-timeout' | 'tier-error';
}

export interface CacheBusEvent extends CacheEventBase {
  direction: 'sent' | 'received';
  kind: 'set' | 'delete' | 'prefix' | 'clear' | 'tags';
}

export interface CacheErrorEvent extends CacheEventBase {
  /** What failed. */
  source: CacheTier | 'bus' | 'lock' | 'serializer' | 'factory';
  /** The operation that was running, e.g. `get`, `set`, `publish`. */
  operation: string;
  /** `corrupt`: undecodable bytes read as a miss; `timeout`: a bounded command ran out. */
  kind: 'corrupt' | 'timeout' | 'unavailable' | 'serialize' | 'other';
  error: unknown;
  key?: string;
}

export interface CacheOperationEvent extends CacheEventBase {
  operation: 'get' | 'set' | 'getOrSet' | 'delete' | 'has' | 'deleteByPrefix' | 'invalidateTags' | 'clear';
  /** Where a read was answered from, or `miss`; absent for writes. */
  result?: CacheTier | 'miss' | 'factory' | 'stale';
  durationMs: number;
}
