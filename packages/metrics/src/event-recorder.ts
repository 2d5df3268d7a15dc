/**
 * Turns the `perf:*` diagnostics channel events of @perf/core into the standard metrics.
 * One handler per channel (no per-event wrapper object); a malformed payload is counted in
 * `metrics_event_errors` and never thrown back at the publishing service.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type {
  BreakerCallEvent,
  BreakerStateEvent,
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
  CircuitState,
  Clock,
  DedupBypassEvent,
  DedupJoinEvent,
  DedupLeadEvent,
  DedupSettleEvent,
  DedupTimeoutEvent,
  PerfChannelName,
  PerfEventMap,
  TracingSamplingEvent,
} from '@perf/core';
import { sampledTraceId } from './exemplar.js';
import type { StandardMetrics } from './standard-metrics.js';

const BREAKER_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

type Handlers = { [N in PerfChannelName]: (payload: PerfEventMap[N]) => void };

/**
 * Subscribes to the @perf channels and records into `std`. Returns the function that
 * unsubscribes every handler again. `skip` leaves channels unobserved (their publishers then pay
 * nothing for them).
 */
export function recordEvents(
  std: StandardMetrics,
  clock: Clock,
  exemplars: boolean,
  skip: ReadonlySet<PerfChannelName> = new Set(),
): () => void {
  const c = std.counters;
  const h = std.histograms;
  const traceId = exemplars ? sampledTraceId : () => undefined;
  const failed = (channel: string) => {
    try {
      c.metrics_event_errors.s1(channel).add(1, clock.now());
    } catch {
      // never throw into the publisher
    }
  };
  const breakerStates = new Map<string, CircuitState>();
  const setBreakerState = (name: string, to: CircuitState) => {
    for (const s of BREAKER_STATES)
      std.gauges.breaker_state.set(std.gauges.breaker_state.s2(name, s), s === to ? 1 : 0);
    if (breakerStates.size < 10_000 || breakerStates.has(name)) breakerStates.set(name, to);
  };

  // Each handler has its own try/catch (no shared wrapper calling 17 different functions, which
  // V8 could not inline): a malformed payload is counted, never thrown at the publisher.
  const handlers: Handlers = {
    'perf:dedup:lead': (e: DedupLeadEvent) => {
      try {
        c.dedup_requests.s2(e.name, 'leader').add(1, clock.now());
      } catch {
        failed('perf:dedup:lead');
      }
    },
    'perf:dedup:join': (e: DedupJoinEvent) => {
      try {
        c.dedup_requests.s2(e.name, 'follower').add(1, clock.now());
      } catch {
        failed('perf:dedup:join');
      }
    },
    'perf:dedup:bypass': (e: DedupBypassEvent) => {
      try {
        c.dedup_requests.s2(e.name, 'bypass').add(1, clock.now());
      } catch {
        failed('perf:dedup:bypass');
      }
    },
    'perf:dedup:timeout': (e: DedupTimeoutEvent) => {
      try {
        c.dedup_timeouts.s2(e.name, e.role).add(1, clock.now());
      } catch {
        failed('perf:dedup:timeout');
      }
    },
    'perf:dedup:settle': (e: DedupSettleEvent) => {
      try {
        const f = h.dedup_wait_duration;
        f.observe(f.s3(e.name, e.role, e.outcome), e.durationMs / 1000, clock.now(), traceId());
      } catch {
        failed('perf:dedup:settle');
      }
    },
    'perf:cache:hit': (e: CacheHitEvent) => {
      try {
        c.cache_lookups.s3(e.namespace, e.tier, 'hit').add(1, clock.now());
      } catch {
        failed('perf:cache:hit');
      }
    },
    'perf:cache:miss': (e: CacheMissEvent) => {
      try {
        c.cache_lookups.s3(e.namespace, e.tier, 'miss').add(1, clock.now());
      } catch {
        failed('perf:cache:miss');
      }
    },
    'perf:cache:set': (e: CacheSetEvent) => {
      try {
        c.cache_sets.s2(e.namespace, e.reason).add(1, clock.now());
      } catch {
        failed('perf:cache:set');
      }
    },
    'perf:cache:delete': (e: CacheDeleteEvent) => {
      try {
        c.cache_deletes.s2(e.namespace, e.kind).add(1, clock.now());
      } catch {
        failed('perf:cache:delete');
      }
    },
    'perf:cache:invalidate': (e: CacheInvalidateEvent) => {
      try {
        c.cache_tag_invalidations.s1(e.namespace).add(e.tags.length, clock.now());
      } catch {
        failed('perf:cache:invalidate');
      }
    },
    'perf:cache:factory': (e: CacheFactoryEvent) => {
      try {
        const now = clock.now();
        c.cache_factory_runs.s2(e.namespace, e.outcome).add(1, now);
        const f = h.cache_factory_duration;
        f.observe(f.s2(e.namespace, e.outcome), e.durationMs / 1000, now, traceId());
      } catch {
        failed('perf:cache:factory');
      }
    },
    'perf:cache:stale': (e: CacheStaleEvent) => {
      try {
        c.cache_stale_served.s2(e.namespace, e.reason).add(1, clock.now());
      } catch {
        failed('perf:cache:stale');
      }
    },
    'perf:cache:bus': (e: CacheBusEvent) => {
      try {
        c.cache_bus_messages.s3(e.namespace, e.direction, e.kind).add(1, clock.now());
      } catch {
        failed('perf:cache:bus');
      }
    },
    'perf:cache:error': (e: CacheErrorEvent) => {
      try {
        c.cache_errors.s3(e.namespace, e.source, e.kind).add(1, clock.now());
      } catch {
        failed('perf:cache:error');
      }
    },
    'perf:cache:operation': (e: CacheOperationEvent) => {
      try {
        const f = h.cache_operation_duration;
        f.observe(
          f.s3(e.namespace, e.operation, e.result ?? 'none'),
          e.durationMs / 1000,
          clock.now(),
          traceId(),
        );
      } catch {
        failed('perf:cache:operation');
      }
    },
    'perf:breaker:state': (e: BreakerStateEvent) => {
      try {
        c.breaker_transitions.s3(e.name, e.from, e.to).add(1, clock.now());
        setBreakerState(e.name, e.to);
      } catch {
        failed('perf:breaker:state');
      }
    },
    'perf:breaker:call': (e: BreakerCallEvent) => {
      try {
        const now = clock.now();
        c.breaker_calls.s2(e.name, e.outcome).add(1, now);
        if (e.slow) c.breaker_slow_calls.s1(e.name).add(1, now);
        if (!breakerStates.has(e.name)) setBreakerState(e.name, e.outcome === 'rejected' ? 'open' : 'closed');
        const f = h.breaker_call_duration;
        f.observe(f.s2(e.name, e.outcome), e.durationMs / 1000, now, traceId());
      } catch {
        failed('perf:breaker:call');
      }
    },
    'perf:tracing:sampling': (e: TracingSamplingEvent) => {
      try {
        c.tracing_sampling_decisions.s2(e.rule, e.sampled ? 'sampled' : 'dropped').add(1, clock.now());
      } catch {
        failed('perf:tracing:sampling');
      }
    },
  };

  const subscriptions: Array<[string, (message: unknown) => void]> = [];
  for (const [name, handler] of Object.entries(handlers) as [PerfChannelName, (p: unknown) => void][]) {
    if (skip.has(name)) continue;
    diagnosticsChannel.subscribe(name, handler);
    subscriptions.push([name, handler]);
  }
  return () => {
    for (const [name, onMessage] of subscriptions.splice(0)) diagnosticsChannel.unsubscribe(name, onMessage);
  };
}
