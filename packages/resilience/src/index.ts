export type {
  BulkheadOptions,
  CacheFallback,
  CacheLike,
  CircuitBreakerOptions,
  CountWindowOptions,
  FallbackFunction,
  FallbackInfo,
  FallbackOption,
  FallbackReason,
  HalfOpenBackoffOptions,
  RetryOptions,
  SamplingWindowOptions,
  WindowOptions,
} from './breaker-options.js';
export {
  type BreakerDefaults,
  BreakerRegistry,
  type BreakerRegistryOptions,
  type BreakerRegistryStats,
  createBreakerRegistry,
} from './breaker-registry.js';
export type { BreakerKind, CircuitBreakerSnapshot } from './breaker-snapshot.js';
export type { BreakerSync, BreakerSyncAttachment, SharedState } from './breaker-sync.js';
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
} from './errors.js';
export {
  createRedisBreakerSync,
  RedisBreakerSync,
  type RedisBreakerSyncOptions,
  type RedisBreakerSyncStats,
  type RedisPublisherLike,
  type RedisSubscriberLike,
} from './redis-breaker-sync.js';
export {
  createCircuitBreaker,
  type ExecuteOptions,
  type ResilienceStats,
  ResilientCircuitBreaker,
} from './resilient-circuit-breaker.js';
export { VERSION } from './version.js';
