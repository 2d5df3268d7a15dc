/** The options of `createCache`, their defaults, and the checks that guard them. */
import {
  type Check,
  type CheckContext,
  type CircuitBreaker,
  type Clock,
  check,
  checkOptions,
  type Deduplicator,
  is,
  optional,
  PerfConfigError,
  systemClock,
  withDefault,
} from '@perf/core';
import type { Cluster, Redis } from 'ioredis';
import type { Keyv, KeyvStoreAdapter } from 'keyv';
import type { Serializer } from './serializer.js';

export interface L1Options {
  /** Most entries kept in memory. Default 10,000. */
  maxEntries?: number;
  /** Most bytes kept (serialized size of each value); unbounded by bytes when absent. */
  maxBytes?: number;
  /**
   * How long a copy stays in L1. Default: the entry's TTL while the bus subscription is up (or with
   * no shared tier); 100 ms while it is down or not yet up, and with `bus: false` and a shared tier.
   * When you set it, it is used instead of the entry's TTL, and capped at 100 ms while the bus is down.
   */
  ttlMs?: number;
}

export interface L2Options {
  /** A Keyv instance, or any Keyv store adapter (e.g. `@keyv/sqlite`). Default: a private in-memory Map. */
  store?: KeyvStoreAdapter | Keyv | Map<unknown, unknown>;
  /** How long a copy stays in L2, at most. Default 5 minutes. */
  ttlMs?: number;
  /** Most entries in the default in-memory store (ignored with your own `store`). Default 100,000. */
  maxEntries?: number;
}

export interface L3Options {
  /** An ioredis client (`Redis` or `Cluster`) you own, or a URL for a client the cache owns and closes. */
  redis: Redis | Cluster | string;
  /** How long a copy stays in Redis, at most. Default 1 hour. */
  ttlMs?: number;
  /** Every Redis call gives up after this long and the cache carries on without it. Default 500 ms. */
  commandTimeoutMs?: number;
  /** How long a `getOrSet({ lock: true })` lock is held at most. Default 10 s. */
  lockTtlMs?: number;
  /** How long a `getOrSet({ lock: true })` caller waits for another instance's lock before running the factory itself. Default 5 s. */
  lockWaitMs?: number;
  /** How often a waiting caller looks for the value again. Default 25 ms. */
  lockPollMs?: number;
}

export interface CreateCacheOptions {
  /** Prefix of every key in shared stores and of the bus channel. Default `'cache'`. */
  namespace?: string;
  /** TTL of an entry when `set`/`getOrSet` name none. Default 5 minutes. */
  defaultTtlMs?: number;
  /** Default `graceMs` (fail-safe) of `getOrSet`. Default 0 (off). */
  graceMs?: number;
  /** Default `softTimeoutMs` of `getOrSet`. Default: none. */
  softTimeoutMs?: number;
  /** A `getOrSet` hit past this fraction of its TTL refreshes in the background (e.g. 0.8). Default: off. */
  eagerRefresh?: number;
  /** L1 (in-process memory, a compact LRU) options, or `false` to turn it off. */
  l1?: L1Options | false;
  /**
   * L2 (Keyv) options, or `false`. Default: off while L1 is on; a private in-process store when
   * `l1: false`. Give a `store` (disk, a shared Keyv backend), or `{}` for a private in-process store
   * (e.g. for many session scopes behind a small L1).
   */
  l2?: L2Options | false;
  /** L3 (Redis through ioredis); absent by default. */
  l3?: L3Options;
  /** Tell other instances (Redis pub/sub) to drop their L1/L2 copies on writes. Default: on when L3 is. */
  bus?: boolean;
  /** How values become bytes in L2/L3. Default: msgpackr (see `createMsgpackSerializer`). */
  serializer?: Serializer;
  /** Coalesces concurrent `getOrSet` misses. Default: a `@perf/dedup` Deduplicator. */
  deduplicator?: Deduplicator;
  /** Skips Redis while this breaker is open (any @perf/core `CircuitBreaker`, e.g. @perf/resilience). */
  circuitBreaker?: CircuitBreaker;
  /** Time source for every TTL. Default: the system clock. */
  clock?: Clock;
  /** Most tag invalidation times remembered locally. Default 10,000. */
  maxTags?: number;
  /** Most keys remembered as "Redis missed a write" while Redis is down. Default 10,000. */
  maxPendingSync?: number;
}

const OWNER = 'createCache';

/** Longest delay a Node timer takes; a longer one fires after 1 ms instead. */
/** A timer delay: positive and at most core's `MAX_TIMER_DELAY_MS`. */
export const timerMs = is.delayMs;

function objectWith<K extends string>(mustBe: string, ...methods: K[]) {
  return check<Record<K, (...args: never[]) => unknown>>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    mustBe,
  );
}

function orFalse<T>(inner: Check<T>): Check<T | false> {
  return (value: unknown, ctx: CheckContext) => (value === false ? false : inner(value, ctx));
}

const redisClient = (value: unknown, ctx: CheckContext): Redis | Cluster | string => {
  if (typeof value === 'string') {
    if (!/^rediss?:\/\//.test(value)) {
      throw new PerfConfigError(ctx.field, 'must be a redis:// or rediss:// URL', value, {
        owner: ctx.owner,
      });
    }
    return value;
  }
  return objectWith(
    'an ioredis client (Redis or Cluster) or a redis:// URL',
    'getBuffer',
    'duplicate',
  )(value, ctx) as unknown as Redis | Cluster;
};

const shape = {
  namespace: withDefault(
    check<string>(
      (v) => typeof v === 'string' && /^[^\s*?[\]]{1,100}$/.test(v),
      'a string of 1-100 characters without spaces or glob characters',
    ),
    'cache',
  ),
  defaultTtlMs: withDefault(is.positiveNumber, 300_000),
  graceMs: withDefault(is.nonNegativeNumber, 0),
  softTimeoutMs: optional(timerMs),
  eagerRefresh: optional(
    check<number>((v) => typeof v === 'number' && v > 0 && v < 1, 'a number between 0 and 1 (exclusive)'),
  ),
  l1: withDefault(
    orFalse(
      is.object({
        maxEntries: withDefault(is.positiveInteger, 10_000),
        maxBytes: optional(is.positiveInteger),
        ttlMs: optional(is.positiveNumber),
      }),
    ),
    { maxEntries: 10_000, maxBytes: undefined, ttlMs: undefined },
  ),
  l2: withDefault(
    orFalse(
      is.object({
        store: optional(
          objectWith('a Keyv instance, a Keyv store adapter or a Map', 'get', 'set', 'delete', 'clear'),
        ),
        ttlMs: withDefault(is.positiveNumber, 300_000),
        maxEntries: withDefault(is.positiveInteger, 100_000),
      }),
    ),
    undefined,
  ),
  l3: optional(
    is.object({
      redis: redisClient,
      ttlMs: withDefault(is.positiveNumber, 3_600_000),
      commandTimeoutMs: withDefault(timerMs, 500),
      lockTtlMs: withDefault(is.positiveNumber, 10_000),
      lockWaitMs: withDefault(is.nonNegativeNumber, 5_000),
      lockPollMs: withDefault(timerMs, 25),
    }),
  ),
  bus: optional(is.boolean),
  serializer: optional(
    objectWith('an object with serialize and deserialize functions', 'serialize', 'deserialize'),
  ),
  deduplicator: optional(objectWith('a Deduplicator (an object with a run function)', 'run')),
  circuitBreaker: optional(objectWith('a CircuitBreaker (an object with an execute function)', 'execute')),
  clock: withDefault(objectWith('a Clock', 'now', 'setTimeout', 'clearTimeout'), systemClock),
  maxTags: withDefault(is.positiveInteger, 10_000),
  maxPendingSync: withDefault(is.positiveInteger, 10_000),
};

export interface ResolvedOptions {
  namespace: string;
  defaultTtlMs: number;
  graceMs: number;
  softTimeoutMs: number | undefined;
  eagerRefresh: number | undefined;
  l1: { maxEntries: number; maxBytes: number | undefined; ttlMs: number | undefined } | false;
  l2: { store: L2Options['store']; ttlMs: number; maxEntries: number } | false;
  l3:
    | {
        redis: Redis | Cluster | string;
        ttlMs: number;
        commandTimeoutMs: number;
        lockTtlMs: number;
        lockWaitMs: number;
        lockPollMs: number;
      }
    | undefined;
  bus: boolean;
  serializer: Serializer | undefined;
  deduplicator: Deduplicator | undefined;
  circuitBreaker: CircuitBreaker | undefined;
  clock: Clock;
  maxTags: number;
  maxPendingSync: number;
}

/**
 * Validates and fills in `createCache` options.
 * @throws {PerfConfigError} naming the first offending field (e.g. `l1.maxEntries`).
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const o = checkOptions(OWNER, input, shape);
  if (o.bus === true && o.l3 === undefined) {
    throw new PerfConfigError('bus', 'needs l3 (the bus runs on Redis pub/sub)', true, { owner: OWNER });
  }
  // No L2 by default: once L1 keeps entries for their TTL, an in-process L2 behind it would hold a
  // second, encoded copy of the same entries in the same process. With L1 off, the in-process L2 is
  // the local tier.
  const l2 = o.l2 ?? (o.l1 === false ? { store: undefined, ttlMs: 300_000, maxEntries: 100_000 } : false);
  return {
    ...o,
    l2: l2 === false ? false : { ...l2, store: l2.store as L2Options['store'] },
    bus: o.bus ?? o.l3 !== undefined,
    serializer: o.serializer as Serializer | undefined,
    deduplicator: o.deduplicator as Deduplicator | undefined,
    circuitBreaker: o.circuitBreaker as CircuitBreaker | undefined,
    clock: o.clock as Clock,
  };
}
