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
import type { TracingSamplingEvent } from './events-tracing.js';

/** A payload type, carried by the list below for the type system only (the value is never read). */
function payload<T>(): T {
  return undefined as T;
}

/**
 * The one list of @perf events: service, event, payload type. Channel names (`perf:<service>:<event>`),
 * `PerfEventMap`, `CHANNEL_NAMES` and `channels` are all derived from it, so a new event is added here
 * and nowhere else.
 */
const EVENTS = {
  dedup: {
    /** A caller found no call in flight for its key and runs `fn` (it leads). */
    lead: payload<DedupLeadEvent>(),
    /** A caller joined a call already in flight (a duplicate prevented). */
    join: payload<DedupJoinEvent>(),
    /** A caller's `run()` settled: success, error, timeout or aborted; once per caller. */
    settle: payload<DedupSettleEvent>(),
    /** A caller's own wait, or a leader's in-flight bound, ran out. */
    timeout: payload<DedupTimeoutEvent>(),
    /** A call ran without deduplication (in-flight table full, or deduplication refused). */
    bypass: payload<DedupBypassEvent>(),
  },
  cache: {
    /** A read found a live value in a tier. */
    hit: payload<CacheHitEvent>(),
    /** A read found nothing usable in a tier. */
    miss: payload<CacheMissEvent>(),
    /** A value was written (through `set`, `getOrSet`, a backfill or warming). */
    set: payload<CacheSetEvent>(),
    /** Keys were removed: one key, a prefix, a scope or everything. */
    delete: payload<CacheDeleteEvent>(),
    /** Tags were invalidated. */
    invalidate: payload<CacheInvalidateEvent>(),
    /** A `getOrSet` factory ran and settled. */
    factory: payload<CacheFactoryEvent>(),
    /** An expired value was served from grace (fail-safe). */
    stale: payload<CacheStaleEvent>(),
    /** A bus message was sent to, or received from, other instances. */
    bus: payload<CacheBusEvent>(),
    /** A tier, the bus, the lock or the serializer failed; the cache carried on. */
    error: payload<CacheErrorEvent>(),
    /** A public cache operation finished, with its duration (for latency histograms). */
    operation: payload<CacheOperationEvent>(),
  },
  breaker: {
    /** A breaker moved between states. */
    state: payload<BreakerStateEvent>(),
    /** A call through a breaker finished, with its outcome. */
    call: payload<BreakerCallEvent>(),
  },
  tracing: {
    /** A sampler decided whether a root span is recorded (one message per decision, per rule). */
    sampling: payload<TracingSamplingEvent>(),
  },
};

type Events = typeof EVENTS;
type Service = keyof Events;

/** Every channel name: `perf:<service>:<event>`. */
export type PerfChannelName = { [S in Service]: `perf:${S}:${keyof Events[S] & string}` }[Service];

/** Every channel name and the payload published on it. */
export type PerfEventMap = {
  [N in PerfChannelName]: N extends `perf:${infer S extends Service}:${infer E}`
    ? E extends keyof Events[S]
      ? Events[S][E]
      : never
    : never;
};

/** A diagnostics channel whose payload type is known. */
export interface TypedChannel<T> {
  readonly name: string;
  readonly hasSubscribers: boolean;
  publish(message: T): void;
  subscribe(onMessage: (message: T, name: string | symbol) => void): void;
  unsubscribe(onMessage: (message: T, name: string | symbol) => void): boolean;
}

/** Every channel name, in a stable order (the list's order). */
export const CHANNEL_NAMES: readonly PerfChannelName[] = Object.freeze(
  Object.entries(EVENTS).flatMap(([service, events]) =>
    Object.keys(events).map((event) => `perf:${service}:${event}` as PerfChannelName),
  ),
);

/** Returns the typed channel for `name` (the same object Node returns for that name). */
export function perfChannel<N extends PerfChannelName>(name: N): TypedChannel<PerfEventMap[N]> {
  return diagnosticsChannel.channel(name) as unknown as TypedChannel<PerfEventMap[N]>;
}

/** The channels of each service, by event. */
export type PerfChannels = {
  readonly [S in Service]: { readonly [E in keyof Events[S]]: TypedChannel<Events[S][E]> };
};

/** The channels, grouped by service, ready to publish on. */
export const channels: PerfChannels = Object.freeze(
  Object.fromEntries(
    Object.entries(EVENTS).map(([service, events]) => [
      service,
      Object.freeze(
        Object.fromEntries(
          Object.keys(events).map((event) => [event, diagnosticsChannel.channel(`perf:${service}:${event}`)]),
        ),
      ),
    ]),
  ),
) as unknown as PerfChannels;

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
