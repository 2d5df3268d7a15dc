/**
 * The event contract between @perf services and their observers (@perf/metrics, your own code).
 *
 * Services publish typed payloads on `node:diagnostics_channel` channels named `perf:<service>:<event>`.
 * Channels are process-wide by name, so two copies of @perf/core still meet on the same channel.
 * Publishers check `hasSubscribers` first: an unobserved service pays one property read per event.
 * Every payload carries the instance's `name` (dedup, breaker) or `namespace` (cache) so observers
 * can tell instances apart.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { BreakerCallEvent, BreakerStateEvent } from './events-breaker.js';
import type {
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
} from './events-cache.js';
import type {
  DedupBypassEvent,
  DedupJoinEvent,
  DedupLeadEvent,
  DedupSettleEvent,
  DedupTimeoutEvent,
} from './events-dedup.js';

/** Every channel name and the payload published on it. */
export interface PerfEventMap {
  /** A caller found no call in flight for its key and runs `fn` (it leads). */
  'perf:dedup:lead': DedupLeadEvent;
  /** A caller joined a call already in flight (a duplicate prevented). */
  'perf:dedup:join': DedupJoinEvent;
  /** A caller's `run()` settled: success, error, timeout or aborted; once per caller. */
  'perf:dedup:settle': DedupSettleEvent;
  /** A caller's own wait, or a leader's in-flight bound, ran out. */
  'perf:dedup:timeout': DedupTimeoutEvent;
  /** A call ran without deduplication (in-flight table full, or deduplication refused). */
  'perf:dedup:bypass': DedupBypassEvent;

  /** A read found a live value in a tier. */
  'perf:cache:hit': CacheHitEvent;
  /** A read found nothing usable in a tier. */
  'perf:cache:miss': CacheMissEvent;
  /** A value was written (through `set`, `getOrSet`, a backfill or warming). */
  'perf:cache:set': CacheSetEvent;
  /** Keys were removed: one key, a prefix, a scope or everything. */
  'perf:cache:delete': CacheDeleteEvent;
  /** Tags were invalidated. */
  'perf:cache:invalidate': CacheInvalidateEvent;
  /** A `getOrSet` factory ran and settled. */
  'perf:cache:factory': CacheFactoryEvent;
  /** An expired value was served from grace (fail-safe). */
  'perf:cache:stale': CacheStaleEvent;
  /** A bus message was sent to, or received from, other instances. */
  'perf:cache:bus': CacheBusEvent;
  /** A tier, the bus, the lock or the serializer failed; the cache carried on. */
  'perf:cache:error': CacheErrorEvent;
  /** A public cache operation finished, with its duration (for latency histograms). */
  'perf:cache:operation': CacheOperationEvent;

  /** A breaker moved between states. */
  'perf:breaker:state': BreakerStateEvent;
  /** A call through a breaker finished, with its outcome. */
  'perf:breaker:call': BreakerCallEvent;
}

export type PerfChannelName = keyof PerfEventMap;

/** A diagnostics channel whose payload type is known. */
export interface TypedChannel<T> {
  readonly name: string;
  readonly hasSubscribers: boolean;
  publish(message: T): void;
  subscribe(onMessage: (message: T, name: string | symbol) => void): void;
  unsubscribe(onMessage: (message: T, name: string | symbol) => void): boolean;
}

/** Every channel name, in a stable order. */
export const CHANNEL_NAMES: readonly PerfChannelName[] = Object.freeze([
  'perf:dedup:lead',
  'perf:dedup:join',
  'perf:dedup:settle',
  'perf:dedup:timeout',
  'perf:dedup:bypass',
  'perf:cache:hit',
  'perf:cache:miss',
  'perf:cache:set',
  'perf:cache:delete',
  'perf:cache:invalidate',
  'perf:cache:factory',
  'perf:cache:stale',
  'perf:cache:bus',
  'perf:cache:error',
  'perf:cache:operation',
  'perf:breaker:state',
  'perf:breaker:call',
] as const);

/** Returns the typed channel for `name` (the same object Node returns for that name). */
export function perfChannel<N extends PerfChannelName>(name: N): TypedChannel<PerfEventMap[N]> {
  return diagnosticsChannel.channel(name) as unknown as TypedChannel<PerfEventMap[N]>;
}

/** The channels, grouped by service, ready to publish on. */
export const channels = {
  dedup: {
    lead: perfChannel('perf:dedup:lead'),
    join: perfChannel('perf:dedup:join'),
    settle: perfChannel('perf:dedup:settle'),
    timeout: perfChannel('perf:dedup:timeout'),
    bypass: perfChannel('perf:dedup:bypass'),
  },
  cache: {
    hit: perfChannel('perf:cache:hit'),
    miss: perfChannel('perf:cache:miss'),
    set: perfChannel('perf:cache:set'),
    delete: perfChannel('perf:cache:delete'),
    invalidate: perfChannel('perf:cache:invalidate'),
    factory: perfChannel('perf:cache:factory'),
    stale: perfChannel('perf:cache:stale'),
    bus: perfChannel('perf:cache:bus'),
    error: perfChannel('perf:cache:error'),
    operation: perfChannel('perf:cache:operation'),
  },
  breaker: {
    state: perfChannel('perf:breaker:state'),
    call: perfChannel('perf:breaker:call'),
  },
} as const;

/**
 * Publishes only when someone listens. Pass a function to build the payload lazily, so an
 * unobserved service does not even allocate it.
 */
export function publish<T>(channel: TypedChannel<T>, message: T | (() => T)): void {
  if (!channel.hasSubscribers) return;
  channel.publish(typeof message === 'function' ? (message as () => T)() : message);
}

/** One event as seen by `subscribeAll`: the channel name and its payload. */
export type PerfEvent = { [N in PerfChannelName]: { channel: N; payload: PerfEventMap[N] } }[PerfChannelName];

/**
 * Subscribes one handler to every @perf channel (what @perf/metrics does).
 * Returns a function that unsubscribes it again.
 */
export function subscribeAll(handler: (event: PerfEvent) => void): () => void {
  const subscriptions = CHANNEL_NAMES.map((name) => {
    const onMessage = (payload: unknown) => handler({ channel: name, payload } as PerfEvent);
    diagnosticsChannel.subscribe(name, onMessage);
    return () => diagnosticsChannel.unsubscribe(name, onMessage);
  });
  return () => {
    for (const off of subscriptions) off();
  };
}
