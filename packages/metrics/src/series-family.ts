/**
 * One metric family: a prom-client instrument on the private registry, plus the in-process
 * sliding windows of each label set, behind a cardinality guard.
 *
 * Series are looked up by label values through nested maps (no string building, no allocation on
 * the hot path). Counter increments are accumulated on the series and handed to prom-client when
 * it collects (its `collect` hook runs before every read of the registry), so an event costs a map
 * lookup and two additions; histograms and gauges go to prom-client directly.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CardinalityGuard, OTHER_LABEL_VALUE } from './cardinality-guard.js';
import { bulkSupported, EntryHandle, type ExemplarValue } from './histogram-sink.js';
import type { AnyRegistry } from './render.js';
import { WindowedCounter } from './windowed-counter.js';
import { WindowedLatency } from './windowed-latency.js';

export interface FamilyInit {
  /** Short signal name used by aggregates and alert rules, e.g. `cache_lookups`. */
  signal: string;
  /** Full Prometheus name, e.g. `perf_cache_lookups_total`. */
  name: string;
  help: string;
  labelNames: readonly string[];
  registry: AnyRegistry;
  maxValuesPerLabel: number;
  /** Label sets per metric at most; past it, a new label set is recorded as all `__other__`. */
  maxSeries: number;
  onOverflow: (metric: string, label: string) => void;
}

type Labels = Record<string, string>;
type Index<S> = Map<string, Index<S> | S>;

abstract class Family<S extends { labels: Labels }> {
  readonly signal: string;
  readonly name: string;
  readonly labelNames: readonly string[];
  readonly guard: CardinalityGuard;
  readonly #maxSeries: number;
  readonly #onOverflow: (label: string) => void;
  /** Canonical series by their (guarded) label values joined with \u0001. */
  readonly #series = new Map<string, S>();
  /** Raw label values → series, only for values the guard admitted (so it stays bounded). */
  readonly #index: Index<S> = new Map();

  constructor(init: FamilyInit) {
    this.signal = init.signal;
    this.name = init.name;
    this.labelNames = init.labelNames;
    this.#onOverflow = (label) => init.onOverflow(init.name, label);
    this.guard = new CardinalityGuard(init.labelNames, init.maxValuesPerLabel, this.#onOverflow);
    this.#maxSeries = init.maxSeries;
  }

  protected abstract createSeries(labels: Labels): S;

  /** Every series, for aggregation queries and the dashboard. */
  all(): IterableIterator<S> {
    return this.#series.values();
  }

  get size(): number {
    return this.#series.size;
  }

  /** The series of a one-label family. */
  s1(a: string): S {
    const s = this.#index.get(a);
    return s === undefined ? this.#resolve([a]) : (s as S);
  }

  /** The series of a two-label family. */
  s2(a: string, b: string): S {
    const m = this.#index.get(a) as Index<S> | undefined;
    const s = m?.get(b);
    return s === undefined ? this.#resolve([a, b]) : (s as S);
  }

  /** The series of a three-label family. */
  s3(a: string, b: string, c: string): S {
    const m = (this.#index.get(a) as Index<S> | undefined)?.get(b) as Index<S> | undefined;
    const s = m?.get(c);
    return s === undefined ? this.#resolve([a, b, c]) : (s as S);
  }

  /** The series for any number of label values, in `labelNames` order. */
  at(values: readonly string[]): S {
    let node: Index<S> | S | undefined = this.#index;
    for (const v of values) {
      node = (node as Index<S>).get(v);
      if (node === undefined) return this.#resolve(values);
    }
    return node as S;
  }

  #resolve(values: readonly string[]): S {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    }
    let allAdmitted = true;
    const guarded = values.map((raw, i) => {
      const v = typeof raw === 'string' ? raw : String(raw);
      const g = this.guard.admit(i, v);
      if (g !== v) allAdmitted = false;
      return g;
    });
    let key = guarded.join('\u0001');
    if (!this.#series.has(key) && this.#series.size >= this.#maxSeries) {
      // Each label is within budget but their combinations are not: fold the whole set.
      this.#onOverflow('*');
      allAdmitted = false;
      guarded.fill(OTHER_LABEL_VALUE);
      key = guarded.join('\u0001');
    }
    let series = this.#series.get(key);
    if (!series) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = guarded[i]!;
      });
      series = this.createSeries(labels);
      this.#series.set(key, series);
    }
    if (allAdmitted) {
      let node = this.#index;
      for (let i = 0; i < values.length - 1; i++) {
        let next = node.get(values[i]!) as Index<S> | undefined;
        if (!next) {
          next = new Map();
          node.set(values[i]!, next);
        }
        node = next;
      }
      node.set(values[values.length - 1]!, series);
    }
    return series;
  }
}

/** A counter series: increments waiting for prom-client, and a 15-minute sliding window. */
export class CounterSeries {
  readonly labels: Labels;
  readonly window = new WindowedCounter(1000, 900);
  pending = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }

  add(n: number, now: number): void {
    this.pending += n;
    this.window.add(n, now);
  }
}

export class CounterFamily extends Family<CounterSeries> {
  readonly metric: Counter<string>;

  constructor(init: FamilyInit) {
    super(init);
    const flush = () => this.flush();
    this.metric = new Counter({
      name: init.name,
      help: init.help,
      labelNames: [...init.labelNames],
      registers: [init.registry as Registry],
      collect: flush,
    });
  }

  protected createSeries(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  /** Hands pending increments to prom-client (runs on every collect). */
  flush(): void {
    for (const s of this.all()) {
      if (s.pending > 0) {
        const n = s.pending;
        s.pending = 0;
        this.metric.inc(s.labels, n);
      }
    }
  }
}

/** A histogram series: its label set, observations not yet handed to prom-client, and a latency window. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly window = new WindowedLatency();
  /** Per prom-client bucket, the last slot above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  exemplars: (ExemplarValue | undefined)[] | undefined;
  readonly sink: EntryHandle;

  constructor(labels: Labels, buckets: number, sink: EntryHandle) {
    this.labels = labels;
    this.counts = new Float64Array(buckets + 1);
    this.sink = sink;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly metric: Histogram<string>;
  readonly exemplars: boolean;
  readonly #bounds: readonly number[];
  /** Bulk path (see histogram-sink.ts) unless this prom-client stores histograms differently. */
  readonly #bulk: boolean;

  /** `bulk: false` forces one prom-client `observe()` per event (the fallback; tests use it). */
  constructor(init: FamilyInit & { buckets: readonly number[]; exemplars: boolean; bulk?: boolean }) {
    super(init);
    this.#bulk = init.bulk ?? bulkSupported();
    this.exemplars = init.exemplars;
    this.#bounds = [...init.buckets];
    // prom-client refuses exemplars on a Prometheus-text registry at construction, although it
    // renders them only in OpenMetrics (our handler's OpenMetrics views). Registering by hand keeps
    // them for those scrapes; Prometheus text drops them.
    const manual = init.exemplars && init.registry.contentType !== Registry.OPENMETRICS_CONTENT_TYPE;
    this.metric = new Histogram({
      name: init.name,
      help: init.help,
      labelNames: [...init.labelNames],
      buckets: [...init.buckets],
      registers: manual ? [] : [init.registry as Registry],
      enableExemplars: init.exemplars,
      collect: () => this.flush(),
    });
    if (manual) (init.registry as Registry).registerMetric(this.metric);
  }

  protected createSeries(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.#bounds.length, new EntryHandle(this.metric, labels));
  }

  /** Hands counted observations to prom-client (runs on every collect). */
  flush(): void {
    for (const s of this.all()) {
      if (s.count === 0) continue;
      s.sink.add(this.#bounds, s.counts, s.sum, s.count, s.exemplars);
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
      s.exemplars = undefined;
    }
  }

  /** Records `seconds` on the series; `traceId` (a sampled span's) becomes the bucket's exemplar. */
  observe(series: HistogramSeries, seconds: number, now: number, traceId?: string): void {
    const value = seconds >= 0 && Number.isFinite(seconds) ? seconds : 0;
    if (this.#bulk) {
      const bounds = this.#bounds;
      let b = 0;
      while (b < bounds.length && value > bounds[b]!) b++;
      series.counts[b]! += 1;
      series.sum += value;
      series.count += 1;
      if (traceId !== undefined && this.exemplars) {
        series.exemplars ??= [];
        series.exemplars[b] = { labelSet: { trace_id: traceId }, value, timestamp: Date.now() / 1000 };
      }
    } else if (this.exemplars) {
      this.metric.observe(
        traceId === undefined
          ? { labels: series.labels, value }
          : { labels: series.labels, value, exemplarLabels: { trace_id: traceId } },
      );
    } else {
      this.metric.observe(series.labels, value);
    }
    series.window.observe(value, now);
  }
}

/** A gauge series: its label set and current value. */
export class GaugeSeries {
  readonly labels: Labels;
  value = 0;

  constructor(labels: Labels) {
    this.labels = labels;
  }
}

export class GaugeFamily extends Family<GaugeSeries> {
  readonly metric: Gauge<string>;

  constructor(init: FamilyInit & { collect?: () => void }) {
    super(init);
    const collect = init.collect;
    this.metric = new Gauge({
      name: init.name,
      help: init.help,
      labelNames: [...init.labelNames],
      registers: [init.registry as Registry],
      ...(collect ? { collect: () => collect() } : {}),
    });
  }

  protected createSeries(labels: Labels): GaugeSeries {
    return new GaugeSeries(labels);
  }

  set(series: GaugeSeries, value: number): void {
    series.value = value;
    this.metric.set(series.labels, value);
  }
}
