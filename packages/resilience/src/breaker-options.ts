/**
 * The options of `createCircuitBreaker` and their checks. Every field is validated at the boundary
 * with @perf/core's `checkOptions`, so a bad value throws `PerfConfigError` naming it before
 * anything is built.
 */
import { type Clock, PerfConfigError, systemClock } from '@perf/core';
import {
  type Check,
  type CheckContext,
  check,
  checkOptions,
  is,
  isPlainObject,
  optional,
  withDefault,
} from '@perf/core/internal';
import type { CircuitBreakerSnapshot } from './breaker-snapshot.js';
import type { BreakerSync } from './breaker-sync.js';

/** Opens when more than `failureRateThreshold` of the last `size` calls failed. */
export interface CountWindowOptions {
  type: 'count';
  /** Calls in the sliding window. */
  size: number;
  /** Failure rate in (0, 1) above which the breaker opens. */
  failureRateThreshold: number;
  /** Calls needed in the window before the rate is trusted; default `size`. */
  minimumCalls?: number;
}

/** Opens when more than `failureRateThreshold` of the calls in the last `durationMs` failed. */
export interface SamplingWindowOptions {
  type: 'sampling';
  /** Length of the sliding time window. */
  durationMs: number;
  /** Failure rate in (0, 1) above which the breaker opens. */
  failureRateThreshold: number;
  /** Minimum calls per second before the rate is trusted; default: 5 failures per second. */
  minimumRps?: number;
}

export type WindowOptions = CountWindowOptions | SamplingWindowOptions;

/** Retries with decorrelated-jitter exponential backoff (cockatiel's `ExponentialBackoff`). */
export interface RetryOptions {
  /** Retries after the first attempt; default 2. */
  maxAttempts?: number;
  /** First backoff delay; default 128 ms. */
  initialDelayMs?: number;
  /** Longest backoff delay; default 10,000 ms. */
  maxDelayMs?: number;
}

/** Concurrency limit with a waiting queue (cockatiel's bulkhead). */
export interface BulkheadOptions {
  /** Calls running at once. */
  limit: number;
  /** Calls allowed to wait for a slot; default 0 (reject at once). */
  queue?: number;
}

/** Grow the open period after each failed probe: `halfOpenAfterMs`, x2, x4 ... up to `maxDelayMs`. */
export interface HalfOpenBackoffOptions {
  maxDelayMs: number;
}

/** Why a fallback was asked for. */
export type FallbackReason = 'open' | 'isolated' | 'failure' | 'timeout' | 'bulkhead';

export interface FallbackInfo {
  /** The breaker's name. */
  name: string;
  reason: FallbackReason;
}

/** A function computing the fallback from the error (sync or async). */
export type FallbackFunction = (error: unknown, info: FallbackInfo) => unknown;

/** The part of @perf/core's `Cache` a cache fallback uses; a `Cache` fits. */
export interface CacheLike {
  get(key: string): Promise<unknown>;
  set?(key: string, value: unknown, options?: { ttlMs?: number }): Promise<unknown>;
}

/**
 * Serve the last good value from a cache key (any `Cache`, e.g. @perf/cache). With `store: true`
 * each successful result is written to the key first, so there is something stale to serve.
 */
export interface CacheFallback {
  /** Any `Cache` (e.g. @perf/cache), or anything with the same `get` (and `set` for `store`). */
  cache: CacheLike;
  key: string;
  store?: boolean;
  /** TTL of stored values; the cache's default when absent. */
  ttlMs?: number;
}

/** A constant value, a function, or a cache key to serve stale data from. */
export type FallbackOption = { value: unknown } | FallbackFunction | CacheFallback;

export interface CircuitBreakerOptions {
  /** Names the breaker in stats, events, spans and Redis messages. Default `'breaker'`. */
  name?: string;
  /** Consecutive counted failures that open the breaker. Default 5. Not with `window`. */
  failureThreshold?: number;
  /** A count or sampling window with a failure-rate threshold, instead of `failureThreshold`. */
  window?: WindowOptions;
  /** How long the breaker stays open before a probe call may go through. Default 60,000 ms. */
  halfOpenAfterMs?: number;
  /** Double the open period after each failed probe, up to `maxDelayMs`. */
  halfOpenBackoff?: HalfOpenBackoffOptions;
  /** Per-attempt timeout; the function's signal aborts when it runs out. */
  timeoutMs?: number;
  /** `aggressive` (default) rejects at the deadline; `cooperative` waits for the function to stop. */
  timeoutStrategy?: 'aggressive' | 'cooperative';
  /** Returns true when an error counts against the breaker. Default: every error counts. */
  errorFilter?: (error: unknown) => boolean;
  /** Successful calls taking at least this long count as failures. */
  slowCallMs?: number;
  /** Retries around the breaker; never retries into an open circuit. */
  retry?: RetryOptions;
  /** Concurrency limit around everything else. */
  bulkhead?: BulkheadOptions;
  /** Served instead of an error when the call fails, times out or is rejected. */
  fallback?: FallbackOption;
  /** A `toJSON()` snapshot to start from. */
  initialState?: CircuitBreakerSnapshot;
  /** Time source for the open period and slow calls. Default `systemClock`. */
  clock?: Clock;
  /** Shares open/closed transitions with other instances (see `createRedisBreakerSync`). */
  sync?: BreakerSync;
}

function fail(ctx: CheckContext, reason: string, value: unknown): never {
  throw new PerfConfigError(ctx.field, reason, value, { owner: ctx.owner });
}

const sub = (ctx: CheckContext, key: string): CheckContext => ({
  owner: ctx.owner,
  field: `${ctx.field}.${key}`,
});

/** A rate strictly between 0 and 1, as cockatiel's windowed breakers require. */
const openRatio: Check<number> = (value, ctx) =>
  typeof value === 'number' && value > 0 && value < 1
    ? value
    : fail(ctx, 'must be a number strictly between 0 and 1', value);

const countWindow = is.object({
  type: is.oneOf('count'),
  size: is.positiveInteger,
  failureRateThreshold: openRatio,
  minimumCalls: optional(is.positiveInteger),
});

const samplingWindow = is.object({
  type: is.oneOf('sampling'),
  durationMs: is.positiveNumber,
  failureRateThreshold: openRatio,
  minimumRps: optional(is.positiveNumber),
});

const windowCheck: Check<WindowOptions> = (value, ctx) => {
  if (!isPlainObject(value)) return fail(ctx, 'must be a plain object', value);
  const type = is.oneOf('count', 'sampling')(value.type, sub(ctx, 'type'));
  if (type === 'sampling') return samplingWindow(value, ctx) as SamplingWindowOptions;
  const checked = countWindow(value, ctx) as CountWindowOptions;
  if (checked.minimumCalls !== undefined && checked.minimumCalls > checked.size) {
    fail(sub(ctx, 'minimumCalls'), `must not exceed window.size (${checked.size})`, checked.minimumCalls);
  }
  return checked;
};

const cacheLike = check(
  (v) => typeof v === 'object' && v !== null && typeof (v as { get?: unknown }).get === 'function',
  'an object with a get(key) method (a Cache)',
);

const cacheFallback = is.object({
  cache: cacheLike,
  key: is.nonEmptyString,
  store: withDefault(is.boolean, false),
  ttlMs: optional(is.positiveNumber),
});

/** Checks a fallback option: a function, `{ value }` or `{ cache, key }`. */
export const fallbackCheck: Check<FallbackOption> = (value, ctx) => {
  if (typeof value === 'function') return value as FallbackFunction;
  if (!isPlainObject(value)) {
    return fail(ctx, 'must be a function, { value } or { cache, key }', value);
  }
  if (Object.hasOwn(value, 'value')) {
    for (const key of Object.keys(value)) {
      if (key !== 'value') fail(sub(ctx, key), 'is not a known option (known: value)', value[key]);
    }
    return { value: value.value };
  }
  const checked = cacheFallback(value, ctx) as CacheFallback;
  if (checked.store && typeof checked.cache.set !== 'function') {
    fail(sub(ctx, 'cache'), 'must have a set(key, value) method when store is true', checked.cache);
  }
  return checked;
};

export const syncCheck = check<BreakerSync>(
  (v) => typeof v === 'object' && v !== null && typeof (v as BreakerSync).attach === 'function',
  'a BreakerSync (from createRedisBreakerSync)',
);

const snapshotCheck = check<CircuitBreakerSnapshot>(isPlainObject, 'a toJSON() snapshot of a breaker');

const shape = {
  name: withDefault(is.nonEmptyString, 'breaker'),
  failureThreshold: optional(is.positiveInteger),
  window: optional(windowCheck),
  halfOpenAfterMs: withDefault(is.positiveNumber, 60_000),
  halfOpenBackoff: optional(is.object({ maxDelayMs: is.positiveNumber })),
  // Delays cockatiel hands to `setTimeout` follow core's timer-delay rule (refused past the longest timer).
  timeoutMs: optional(is.delayMs),
  timeoutStrategy: withDefault(is.oneOf('aggressive', 'cooperative'), 'aggressive'),
  errorFilter: optional(is.function as Check<(error: unknown) => boolean>),
  slowCallMs: optional(is.positiveNumber),
  retry: optional(
    is.object({
      maxAttempts: withDefault(is.positiveInteger, 2),
      initialDelayMs: withDefault(is.nonNegativeDelayMs, 128),
      maxDelayMs: withDefault(is.delayMs, 10_000),
    }),
  ),
  bulkhead: optional(is.object({ limit: is.positiveInteger, queue: withDefault(is.nonNegativeInteger, 0) })),
  fallback: optional(fallbackCheck),
  initialState: optional(snapshotCheck),
  clock: withDefault(is.clock as Check<Clock>, systemClock),
  sync: optional(syncCheck),
};

export type CheckedBreakerOptions = ReturnType<typeof checkBreakerOptions>;

/**
 * Validates `createCircuitBreaker` options and fills defaults.
 * @throws {PerfConfigError} naming the first offending field.
 */
export function checkBreakerOptions(input: unknown, owner = 'createCircuitBreaker') {
  const o = checkOptions(owner, input, shape);
  if (o.window !== undefined && o.failureThreshold !== undefined) {
    throw new PerfConfigError('failureThreshold', 'cannot be combined with window', o.failureThreshold, {
      owner,
    });
  }
  if (o.halfOpenBackoff !== undefined && o.halfOpenBackoff.maxDelayMs < o.halfOpenAfterMs) {
    throw new PerfConfigError(
      'halfOpenBackoff.maxDelayMs',
      `must be at least halfOpenAfterMs (${o.halfOpenAfterMs})`,
      o.halfOpenBackoff.maxDelayMs,
      { owner },
    );
  }
  if (o.retry !== undefined && o.retry.maxDelayMs < o.retry.initialDelayMs) {
    throw new PerfConfigError(
      'retry.maxDelayMs',
      `must be at least retry.initialDelayMs (${o.retry.initialDelayMs})`,
      o.retry.maxDelayMs,
      { owner },
    );
  }
  return { ...o, failureThreshold: o.failureThreshold ?? 5 };
}
