/** The options of `new Deduplicator()` and of `run()`, and their checks. */
import {
  type Check,
  type Clock,
  check,
  checkOptions,
  is,
  isPlainObject,
  optional,
  PerfConfigError,
  systemClock,
  withDefault,
} from '@perf/core';
import type { DedupCallOptions } from './call-info.js';
import type { DistributedOptions } from './redis-coordinator.js';
import type { ShareMode } from './share.js';

export interface DeduplicatorOptions {
  /**
   * The in-flight limit, in ms: the longest one operation may hold its key. Past it the operation is
   * abandoned: its signal aborts, every caller still waiting rejects with `PerfTimeoutError` and the
   * key is free again. Default 30 000.
   */
  timeoutMs?: number;
  /** Keys in flight at most; past it new keys run without deduplication (counted as `bypassed`). Default 1000. */
  maxInFlight?: number;
  /** How followers receive the result: `reference` (default), `clone` (structuredClone each) or `freeze`. */
  share?: ShareMode;
  /** Names this instance in events and spans. Default `"default"`. */
  name?: string;
  /** Time source for timeouts and waits. Default `systemClock`. */
  clock?: Clock;
  /** Emit OpenTelemetry spans (a no-op until an SDK is registered). Default true. */
  spans?: boolean;
  /** Distributed mode: one leader per key across instances, over Redis. Default: off. */
  distributed?: DistributedOptions;
}

const isClock = check<Clock>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Clock).now === 'function' &&
    typeof (v as Clock).setTimeout === 'function' &&
    typeof (v as Clock).clearTimeout === 'function',
  'a Clock (an object with now, setTimeout and clearTimeout)',
);

const hasMethods = (v: unknown, names: string[]) =>
  typeof v === 'object' &&
  v !== null &&
  names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

const DISTRIBUTED_SHAPE = {
  redis: check<DistributedOptions['redis']>(
    (v) => hasMethods(v, ['set', 'eval']),
    'an ioredis client (with set and eval)',
  ),
  subscriber: optional(
    check<NonNullable<DistributedOptions['subscriber']>>(
      (v) => hasMethods(v, ['subscribe', 'unsubscribe', 'ping', 'on', 'removeListener', 'quit']),
      'an ioredis client for pub/sub',
    ),
  ),
  prefix: withDefault(is.string, 'perf:dedup:'),
  lockTtlMs: withDefault(is.positiveInteger, 5000),
  waitTimeoutMs: optional(is.positiveNumber),
  pollMs: withDefault(is.positiveNumber, 250),
  commandTimeoutMs: withDefault(is.positiveNumber, 1000),
  maxResultBytes: withDefault(is.positiveInteger, 1024 * 1024),
  outageBackoffMs: withDefault(is.nonNegativeNumber, 1000),
  connectTimeoutMs: optional(is.delayMs),
};

const DEDUP_SHAPE = {
  timeoutMs: withDefault(is.positiveNumber, 30_000),
  maxInFlight: withDefault(is.positiveInteger, 1000),
  share: withDefault(is.oneOf('reference', 'clone', 'freeze'), 'reference') as Check<ShareMode>,
  name: withDefault(is.nonEmptyString, 'default'),
  clock: withDefault(isClock, systemClock),
  spans: withDefault(is.boolean, true),
  distributed: optional(is.object(DISTRIBUTED_SHAPE)),
};

/** @throws {PerfConfigError} naming the first invalid field. */
export function checkDeduplicatorOptions(input: unknown) {
  const opts = checkOptions('Deduplicator', input, DEDUP_SHAPE);
  const d = opts.distributed;
  if (d !== undefined && d.subscriber === undefined && !hasMethods(d.redis, ['duplicate'])) {
    throw new PerfConfigError(
      'distributed.subscriber',
      'is required when distributed.redis has no duplicate()',
      undefined,
      { owner: 'Deduplicator' },
    );
  }
  if (d?.connectTimeoutMs !== undefined && d.connectTimeoutMs >= opts.timeoutMs) {
    // A wait for the first connection that outlives the in-flight limit would abandon the call
    // (PerfTimeoutError) instead of running it locally.
    throw new PerfConfigError(
      'distributed.connectTimeoutMs',
      `must be below timeoutMs (${opts.timeoutMs})`,
      d.connectTimeoutMs,
      { owner: 'Deduplicator' },
    );
  }
  return opts;
}

/** `distributed.connectTimeoutMs` when not given: 5 s, or half the in-flight limit when that is shorter. */
export function defaultConnectTimeoutMs(timeoutMs: number): number {
  return Math.min(5000, timeoutMs / 2);
}

const RUN_OWNER = 'Deduplicator.run';
const SIGNAL = { owner: RUN_OWNER, field: 'signal' };
const TIMEOUT = { owner: RUN_OWNER, field: 'timeoutMs' };
const ON_SETTLE = { owner: RUN_OWNER, field: 'onSettle' };

/**
 * Checks `run()` options in place, allocating nothing (this runs once per call): the same rules as
 * `checkOptions` (plain object, known keys only, typed fields), and returns the object itself.
 * @throws {PerfConfigError} naming the first invalid field.
 */
export function checkRunOptions(input: unknown): DedupCallOptions {
  if (!isPlainObject(input)) {
    throw new PerfConfigError('options', 'must be a plain object', input, { owner: RUN_OWNER });
  }
  for (const key in input) {
    if (key !== 'signal' && key !== 'timeoutMs' && key !== 'onSettle') {
      throw new PerfConfigError(
        key,
        'is not a known option (known: signal, timeoutMs, onSettle)',
        input[key],
        {
          owner: RUN_OWNER,
        },
      );
    }
  }
  const options = input as DedupCallOptions;
  if (options.signal !== undefined) is.abortSignal(options.signal, SIGNAL);
  if (options.timeoutMs !== undefined) is.positiveNumber(options.timeoutMs, TIMEOUT);
  if (options.onSettle !== undefined) is.function(options.onSettle, ON_SETTLE);
  return options;
}
