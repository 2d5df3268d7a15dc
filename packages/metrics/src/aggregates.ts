/**
 * Queries over the in-process sliding windows (1 s slots, up to 15 minutes): rates, increases,
 * ratios, latency quantiles and gauge values, grouped by labels like PromQL's `sum by (...)`.
 * The dashboard and the alert rules read these; nothing here touches prom-client.
 */
import type { Clock } from '@perf/core';
import { PerfConfigError } from '@perf/core';
import type { CounterFamily, GaugeFamily, HistogramFamily } from './series-family.js';
import { type Signal, type StandardMetrics, signalKind } from './standard-metrics.js';
import { LATENCY_BINS, quantileOf } from './windowed-latency.js';

/** Which series to read: a signal, optionally narrowed to label values. */
export interface Selector {
  signal: Signal;
  /** Exact label values a series must have, e.g. `{ result: 'hit' }`. */
  match?: Readonly<Record<string, string>>;
}

/** One group of a query result: the `by` labels and the value. */
export interface AggregateValue {
  labels: Record<string, string>;
  value: number;
}

/** The longest window the aggregates keep. */
export const MAX_WINDOW_MS = 15 * 60_000;

type Labels = Record<string, string>;

export class Aggregates {
  readonly #std: StandardMetrics;
  readonly #clock: Clock;

  /** @internal created by `createMetrics`; read it as `metrics.aggregates`. */
  constructor(std: StandardMetrics, clock: Clock) {
    this.#std = std;
    this.#clock = clock;
  }

  /**
   * Events per second over `windowMs`, summed by the `by` labels (histograms count observations).
   * @throws {PerfConfigError} for an unknown signal, a gauge, or a window outside 1 s..15 min.
   */
  rate(selector: Selector, windowMs: number, by: readonly string[] = []): AggregateValue[] {
    return this.increase(selector, windowMs, by).map((g) => ({
      labels: g.labels,
      value: g.value / (windowMs / 1000),
    }));
  }

  /**
   * Events counted over `windowMs`, summed by the `by` labels.
   * @throws {PerfConfigError} as `rate` does.
   */
  increase(selector: Selector, windowMs: number, by: readonly string[] = []): AggregateValue[] {
    checkWindow(windowMs);
    const now = this.#clock.now();
    const groups = new Map<string, AggregateValue>();
    const kind = signalKind(selector.signal);
    if (kind === 'counter') {
      const family = this.#std.counters[
        selector.signal as keyof StandardMetrics['counters']
      ] as CounterFamily;
      for (const s of family.all()) {
        if (!matches(s.labels, selector.match)) continue;
        group(groups, s.labels, by).value += s.window.sum(windowMs, now);
      }
    } else if (kind === 'histogram') {
      const family = this.#histogram(selector.signal);
      const bins = new Float64Array(LATENCY_BINS);
      for (const s of family.all()) {
        if (!matches(s.labels, selector.match)) continue;
        bins.fill(0);
        s.window.mergeInto(bins, windowMs, now);
        let n = 0;
        for (const c of bins) n += c;
        group(groups, s.labels, by).value += n;
      }
    } else {
      throw new PerfConfigError(
        'signal',
        'must be a counter or histogram signal for a rate',
        selector.signal,
      );
    }
    return [...groups.values()];
  }

  /**
   * `numerator / denominator` per group (rates over the same window); groups whose denominator
   * is 0 are left out, as PromQL leaves out NaN comparisons.
   * @throws {PerfConfigError} as `rate` does.
   */
  ratio(
    numerator: Selector,
    denominator: Selector,
    windowMs: number,
    by: readonly string[] = [],
  ): AggregateValue[] {
    const num = new Map(this.increase(numerator, windowMs, by).map((g) => [groupKey(g.labels, by), g.value]));
    const out: AggregateValue[] = [];
    for (const d of this.increase(denominator, windowMs, by)) {
      if (d.value > 0)
        out.push({ labels: d.labels, value: (num.get(groupKey(d.labels, by)) ?? 0) / d.value });
    }
    return out;
  }

  /**
   * The `q` quantile (0..1) of a histogram signal over `windowMs`, in seconds, per group.
   * Bins are about 20 % wide, so the answer is within about 10 % of the true value.
   * @throws {PerfConfigError} for a non-histogram signal, a bad `q` or window.
   */
  quantile(selector: Selector, q: number, windowMs: number, by: readonly string[] = []): AggregateValue[] {
    checkWindow(windowMs);
    if (!(q >= 0 && q <= 1)) throw new PerfConfigError('quantile', 'must be a number between 0 and 1', q);
    const family = this.#histogram(selector.signal);
    const now = this.#clock.now();
    const merged = new Map<string, { labels: Labels; bins: Float64Array }>();
    for (const s of family.all()) {
      if (!matches(s.labels, selector.match)) continue;
      const key = groupKey(s.labels, by);
      let g = merged.get(key);
      if (!g) {
        g = { labels: pick(s.labels, by), bins: new Float64Array(LATENCY_BINS) };
        merged.set(key, g);
      }
      s.window.mergeInto(g.bins, windowMs, now);
    }
    const out: AggregateValue[] = [];
    for (const g of merged.values()) {
      const v = quantileOf(g.bins, q);
      if (v !== undefined) out.push({ labels: g.labels, value: v });
    }
    return out;
  }

  /**
   * Current gauge values, summed by the `by` labels.
   * @throws {PerfConfigError} for a non-gauge signal.
   */
  value(selector: Selector, by: readonly string[] = []): AggregateValue[] {
    if (signalKind(selector.signal) !== 'gauge') {
      throw new PerfConfigError('signal', 'must be a gauge signal for a value', selector.signal);
    }
    const family = this.#std.gauges[selector.signal as keyof StandardMetrics['gauges']] as GaugeFamily;
    const groups = new Map<string, AggregateValue>();
    for (const s of family.all()) {
      if (!matches(s.labels, selector.match)) continue;
      group(groups, s.labels, by).value += s.value;
    }
    return [...groups.values()];
  }

  #histogram(signal: string): HistogramFamily {
    if (signalKind(signal) !== 'histogram') {
      throw new PerfConfigError('signal', 'must be a histogram signal', signal);
    }
    return this.#std.histograms[signal as keyof StandardMetrics['histograms']];
  }
}

function checkWindow(windowMs: number): void {
  if (!(windowMs >= 1000 && windowMs <= MAX_WINDOW_MS)) {
    throw new PerfConfigError('window', 'must be between 1s and 15m', windowMs);
  }
}

function matches(labels: Labels, match: Readonly<Labels> | undefined): boolean {
  if (!match) return true;
  for (const k in match) if (labels[k] !== match[k]) return false;
  return true;
}

function pick(labels: Labels, by: readonly string[]): Labels {
  const out: Labels = {};
  for (const k of by) out[k] = labels[k] ?? '';
  return out;
}

function groupKey(labels: Labels, by: readonly string[]): string {
  let key = '';
  for (const k of by) key += `${labels[k] ?? ''}\u0001`;
  return key;
}

function group(groups: Map<string, AggregateValue>, labels: Labels, by: readonly string[]): AggregateValue {
  const key = groupKey(labels, by);
  let g = groups.get(key);
  if (!g) {
    g = { labels: pick(labels, by), value: 0 };
    groups.set(key, g);
  }
  return g;
}
