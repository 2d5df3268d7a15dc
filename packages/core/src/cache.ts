/** The contract @perf/cache implements. */
import type { CacheTier } from './events-cache.js';

export interface CacheSetOptions {
  /** Time to live in milliseconds; defaults to the cache's `defaultTtlMs`. */
  ttlMs?: number;
  /** Tags to invalidate the entry by, later, with `invalidateTags`. */
  tags?: readonly string[];
}

export interface CacheFactoryContext<T = unknown> {
  key: string;
  /** Aborted when every waiting caller gave up, or the cache closed. */
  signal: AbortSignal;
  /** The expired value kept in grace, when there is one. */
  stale: T | undefined;
}

export type CacheFactory<T> = (context: CacheFactoryContext<T>) => T | Promise<T>;

export interface CacheGetOrSetOptions extends CacheSetOptions {
  /** Keep the value this long past its TTL, to serve when the factory fails or is slow (fail-safe). */
  graceMs?: number;
  /** With a stale value at hand, answer with it once the factory has run this long; the refresh goes on. */
  softTimeoutMs?: number;
  /** Run the factory once across instances (Redis lock), not only once per process. */
  lock?: boolean;
  signal?: AbortSignal;
}

export interface CacheTierStats {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  errors: number;
  /** hits / (hits + misses), 0 before any read. */
  hitRate: number;
}

export interface CacheStats {
  tiers: Partial<Record<CacheTier, CacheTierStats>>;
  /** Reads answered by any tier. */
  hits: number;
  /** Reads no tier could answer. */
  misses: number;
  /** hits / (hits + misses) over whole reads, 0 before any read. */
  hitRate: number;
  sets: number;
  deletes: number;
  staleServed: number;
  factoryRuns: number;
  factoryErrors: number;
  errors: number;
  corruptReads: number;
  busMessagesSent: number;
  busMessagesReceived: number;
}

export interface Cache {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set<T = unknown>(key: string, value: T, options?: CacheSetOptions): Promise<void>;
  /** Resolves true when the key existed in any tier. */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Returns the cached value, or runs `factory` once (stampede-safe) and caches its result. */
  getOrSet<T>(key: string, factory: CacheFactory<T>, options?: CacheGetOrSetOptions): Promise<T>;
  invalidateTags(tags: readonly string[]): Promise<void>;
  deleteByPrefix(prefix: string): Promise<void>;
  clear(): Promise<void>;
  stats(): CacheStats;
  close(): Promise<void>;
}
