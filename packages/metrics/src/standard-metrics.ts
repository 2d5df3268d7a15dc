/**
 * The standard @perf metric set: one family per signal, named by Prometheus conventions (base
 * units, `_total` on counters only, snake_case) under a prefix (default `perf_`).
 */
import type { AnyRegistry } from './render.js';
import { CounterFamily, GaugeFamily, HistogramFamily } from './series-family.js';

/** Signal names (the metric name without prefix and suffix), used by aggregates and alert rules. */
export type CounterSignal =
  | 'dedup_requests'
  | 'dedup_timeouts'
  | 'cache_lookups'
  | 'cache_sets'
  | 'cache_deletes'
  | 'cache_tag_invalidations'
  | 'cache_factory_runs'
  | 'cache_stale_served'
  | 'cache_bus_messages'
  | 'cache_errors'
  | 'breaker_transitions'
  | 'breaker_calls'
  | 'breaker_slow_calls'
  | 'tracing_sampling_decisions'
  | 'http_requests'
  | 'metrics_label_overflow'
  | 'metrics_event_errors';
export type HistogramSignal =
  | 'dedup_wait_duration'
  | 'cache_operation_duration'
  | 'cache_factory_duration'
  | 'breaker_call_duration'
  | 'http_request_duration';
export type GaugeSignal = 'breaker_state' | 'cache_hit_ratio' | 'alerts';
export type Signal = CounterSignal | HistogramSignal | GaugeSignal;

interface Def {
  labels: readonly string[];
  help: string;
}

export const COUNTER_DEFS: Record<CounterSignal, Def> = {
  dedup_requests: {
    labels: ['name', 'role'],
    help: 'Calls to Deduplicator.run by role: leader ran the work, follower joined a call in flight (a duplicate prevented), bypass ran without deduplication.',
  },
  dedup_timeouts: { labels: ['name', 'role'], help: 'Deduplicator waits or in-flight bounds that ran out.' },
  cache_lookups: {
    labels: ['namespace', 'tier', 'result'],
    help: 'Cache reads per tier; result is hit or miss.',
  },
  cache_sets: {
    labels: ['namespace', 'reason'],
    help: 'Cache writes by reason (set, factory, backfill, warm, refresh).',
  },
  cache_deletes: { labels: ['namespace', 'kind'], help: 'Cache deletions by kind (key, prefix, clear).' },
  cache_tag_invalidations: { labels: ['namespace'], help: 'Cache tags invalidated.' },
  cache_factory_runs: { labels: ['namespace', 'outcome'], help: 'getOrSet factory runs by outcome.' },
  cache_stale_served: {
    labels: ['namespace', 'reason'],
    help: 'Expired values served from grace (fail-safe).',
  },
  cache_bus_messages: {
    labels: ['namespace', 'direction', 'kind'],
    help: 'Cache bus messages sent to or received from other instances.',
  },
  cache_errors: {
    labels: ['namespace', 'source', 'kind'],
    help: 'Cache tier, bus, lock or serializer failures the cache carried on through.',
  },
  breaker_transitions: { labels: ['name', 'from', 'to'], help: 'Circuit breaker state changes.' },
  breaker_calls: { labels: ['name', 'outcome'], help: 'Calls through a circuit breaker by outcome.' },
  breaker_slow_calls: { labels: ['name'], help: 'Calls slower than the breaker slowCallMs.' },
  tracing_sampling_decisions: {
    labels: ['rule', 'decision'],
    help: 'Root-span sampling decisions of @perf/tracing per rule; decision is sampled or dropped.',
  },
  http_requests: {
    labels: ['method', 'route', 'status_class'],
    help: 'HTTP requests by method, route template and status class.',
  },
  metrics_label_overflow: {
    labels: ['metric', 'label'],
    help: 'Label values replaced by __other__ because the metric label had used its value budget.',
  },
  metrics_event_errors: {
    labels: ['channel'],
    help: 'Events @perf/metrics could not record (malformed payloads).',
  },
};

export const HISTOGRAM_DEFS: Record<HistogramSignal, Def> = {
  dedup_wait_duration: {
    labels: ['name', 'role', 'outcome'],
    help: 'How long each Deduplicator.run caller waited, in seconds.',
  },
  cache_operation_duration: {
    labels: ['namespace', 'operation', 'result'],
    help: 'Duration of public cache operations in seconds; result is the answering tier, miss, factory, stale or none.',
  },
  cache_factory_duration: { labels: ['namespace', 'outcome'], help: 'getOrSet factory run time in seconds.' },
  breaker_call_duration: {
    labels: ['name', 'outcome'],
    help: 'Duration of calls through a circuit breaker in seconds.',
  },
  http_request_duration: {
    labels: ['method', 'route', 'status_class'],
    help: 'HTTP request duration in seconds, by method, route template and status class.',
  },
};

export const GAUGE_DEFS: Record<GaugeSignal, Def> = {
  breaker_state: {
    labels: ['name', 'state'],
    help: 'Circuit breaker state: 1 for the current state (closed, open, half-open, isolated), 0 for the others.',
  },
  cache_hit_ratio: {
    labels: ['namespace', 'tier'],
    help: 'Share of cache reads per tier that hit over the last 60 seconds (in-process sliding window).',
  },
  alerts: {
    labels: ['alertname', 'alertstate'],
    help: 'In-process alerts per rule and state (pending, firing): how many label sets are in that state.',
  },
};

/** The Prometheus metric name of a signal under `prefix`. */
export function metricName(prefix: string, signal: Signal): string {
  if (signal in COUNTER_DEFS) return `${prefix}${signal}_total`;
  if (signal in HISTOGRAM_DEFS) return `${prefix}${signal}_seconds`;
  return `${prefix}${signal}`;
}

export function signalKind(signal: string): 'counter' | 'histogram' | 'gauge' | undefined {
  if (signal in COUNTER_DEFS) return 'counter';
  if (signal in HISTOGRAM_DEFS) return 'histogram';
  if (signal in GAUGE_DEFS) return 'gauge';
  return undefined;
}

export interface StandardMetricsOptions {
  registry: AnyRegistry;
  prefix: string;
  maxValuesPerLabel: number;
  maxSeries: number;
  buckets: readonly number[];
  exemplars: boolean;
  /** The clock's `now`, for the sliding windows. */
  now: () => number;
  /** Recomputes `cache_hit_ratio` at collect time. */
  collectHitRatio: (gauge: GaugeFamily) => void;
  /** Recomputes `alerts` at collect time. */
  collectAlerts: (gauge: GaugeFamily) => void;
}

/** Every family of the standard set, created on `registry`. */
export class StandardMetrics {
  readonly counters: Record<CounterSignal, CounterFamily>;
  readonly histograms: Record<HistogramSignal, HistogramFamily>;
  readonly gauges: Record<GaugeSignal, GaugeFamily>;

  constructor(o: StandardMetricsOptions) {
    let overflow: CounterFamily | undefined;
    const onOverflow = (metric: string, label: string) => {
      overflow?.s2(metric, label).add(1, o.now());
    };
    const base = (signal: Signal, def: Def) => ({
      signal,
      name: metricName(o.prefix, signal),
      help: def.help,
      labelNames: def.labels,
      registry: o.registry,
      maxValuesPerLabel: o.maxValuesPerLabel,
      maxSeries: o.maxSeries,
      onOverflow,
    });
    const counters = {} as Record<CounterSignal, CounterFamily>;
    for (const [signal, def] of Object.entries(COUNTER_DEFS) as [CounterSignal, Def][]) {
      counters[signal] = new CounterFamily(base(signal, def));
    }
    overflow = counters.metrics_label_overflow;
    const histograms = {} as Record<HistogramSignal, HistogramFamily>;
    for (const [signal, def] of Object.entries(HISTOGRAM_DEFS) as [HistogramSignal, Def][]) {
      histograms[signal] = new HistogramFamily({
        ...base(signal, def),
        buckets: o.buckets,
        exemplars: o.exemplars,
      });
    }
    const gauges = {} as Record<GaugeSignal, GaugeFamily>;
    gauges.breaker_state = new GaugeFamily(base('breaker_state', GAUGE_DEFS.breaker_state));
    const hitRatio: GaugeFamily = new GaugeFamily({
      ...base('cache_hit_ratio', GAUGE_DEFS.cache_hit_ratio),
      collect: () => o.collectHitRatio(hitRatio),
    });
    gauges.cache_hit_ratio = hitRatio;
    const alerts: GaugeFamily = new GaugeFamily({
      ...base('alerts', GAUGE_DEFS.alerts),
      collect: () => o.collectAlerts(alerts),
    });
    gauges.alerts = alerts;
    this.counters = counters;
    this.histograms = histograms;
    this.gauges = gauges;
  }

  /** Removes every family from the registry (on close). */
  unregister(registry: AnyRegistry): void {
    for (const f of [
      ...Object.values(this.counters),
      ...Object.values(this.histograms),
      ...Object.values(this.gauges),
    ]) {
      registry.removeSingleMetric(f.name);
    }
  }
}
