export type {
  Cache,
  CacheFactory,
  CacheFactoryContext,
  CacheGetOrSetOptions,
  CacheSetOptions,
  CacheStats,
  CacheTierStats,
} from './cache.js';
export { type CanonicalizeOptions, canonicalize } from './canonical.js';
export type { CircuitBreaker, CircuitBreakerStats, CircuitState } from './circuit-breaker.js';
export { type Clock, ManualClock, systemClock, type TimerHandle } from './clock.js';
export type { Deduplicator, DedupRunOptions, DedupStats } from './deduplicator.js';
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  describeValue,
  type ErrorCode,
  ErrorCodes,
  IsolatedCircuitError,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
  isPerfAbortError,
  isPerfClosedError,
  isPerfConfigError,
  isPerfError,
  isPerfKeyError,
  isPerfSerializationError,
  isPerfTimeoutError,
  PerfAbortError,
  PerfClosedError,
  PerfConfigError,
  PerfError,
  PerfKeyError,
  PerfSerializationError,
  PerfTimeoutError,
} from './errors.js';
export {
  CHANNEL_NAMES,
  channels,
  type PerfChannelName,
  type PerfChannels,
  type PerfEvent,
  type PerfEventMap,
  perfChannel,
  publish,
  subscribeAll,
  type TypedChannel,
} from './events.js';
export type { BreakerCallEvent, BreakerCallOutcome, BreakerStateEvent } from './events-breaker.js';
export type {
  CacheBusEvent,
  CacheDeleteEvent,
  CacheErrorEvent,
  CacheFactoryEvent,
  CacheHitEvent,
  CacheInvalidateEvent,
  CacheMissEvent,
  CacheOperationEvent,
  CacheSetEvent,
  CacheStaleEvent,
  CacheTier,
} from './events-cache.js';
export type {
  DedupBypassEvent,
  DedupJoinEvent,
  DedupLeadEvent,
  DedupOutcome,
  DedupRole,
  DedupSettleEvent,
  DedupTimeoutEvent,
} from './events-dedup.js';
export type { TracingSamplingEvent } from './events-tracing.js';
export { hashKey, hashString } from './hash.js';
// The options checker and `describeValue` are for @perf packages: import them from
// `@perf/core/internal`. They stay here too for compatibility (to be removed in a major release).
export {
  type Check,
  type CheckContext,
  type CheckedOptions,
  check,
  checkOptions,
  is,
  isPlainObject,
  optional,
  withDefault,
} from './options.js';
export { MAX_TIMER_DELAY_MS } from './timer-delay.js';
