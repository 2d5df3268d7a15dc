/**
 * Hands pre-bucketed histogram observations to a prom-client `Histogram` in bulk at collect time.
 *
 * prom-client has no bulk-observe API and one `observe()` with labels costs about 0.5 µs (label
 * validation, label hashing, a bucket search), which is more than a cached cache hit. So each
 * series counts its own observations per bucket on the hot path, and at collect time the counts are
 * added to the series' entry in the histogram (prom-client 15 keeps `{ labels, bucketValues, sum,
 * count, bucketExemplars }` per label set; the entry is created through the public `zero(labels)`
 * and found again by the identity of its `labels` object). prom-client still owns the metric,
 * formatting, exemplars output, `reset()` and `remove()`.
 *
 * The entry shape is probed once per process; if a prom-client version ever stores it differently,
 * `bulkSupported()` is false and families fall back to one `observe()` per event.
 */
import { Histogram, type Registry } from 'prom-client';
import { createRegistry } from './render.js';

interface Entry {
  labels: Record<string, string>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
  bucketExemplars?: Record<string, unknown> | undefined;
}

interface HistogramInternals {
  hashMap: Record<string, Entry>;
}

let probed: boolean | undefined;

/** True when this prom-client's histogram entries have the shape the bulk path writes to. */
export function bulkSupported(): boolean {
  if (probed !== undefined) return probed;
  try {
    const registry = createRegistry('text/plain; version=0.0.4; charset=utf-8') as Registry;
    const h = new Histogram({
      name: 'probe',
      help: 'probe',
      labelNames: ['a'],
      buckets: [1, 2],
      registers: [registry],
    });
    const labels = { a: 'x' };
    h.observe(labels, 1.5);
    const entry = findEntry(h, labels);
    probed =
      entry !== undefined &&
      entry.bucketValues['2'] === 1 &&
      entry.bucketValues['1'] === 0 &&
      entry.sum === 1.5 &&
      entry.count === 1;
  } catch {
    probed = false;
  }
  return probed;
}

function findEntry(h: Histogram<string>, labels: Record<string, string>): Entry | undefined {
  const key = findKey(h, labels);
  return key === undefined ? undefined : (h as unknown as HistogramInternals).hashMap[key];
}

function findKey(h: Histogram<string>, labels: Record<string, string>): string | undefined {
  const map = (h as unknown as HistogramInternals).hashMap;
  if (typeof map !== 'object' || map === null) return undefined;
  for (const key in map) if (map[key]!.labels === labels) return key;
  return undefined;
}

/** One exemplar as prom-client writes it. */
export interface ExemplarValue {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

/** A series' entry in the prom-client histogram (re-found after `reset()` or `remove()`). */
export class EntryHandle {
  readonly #h: Histogram<string>;
  readonly #labels: Record<string, string>;
  #entry: Entry | undefined;
  #key: string | undefined;
  #map: Record<string, Entry> | undefined;

  constructor(h: Histogram<string>, labels: Record<string, string>) {
    this.#h = h;
    this.#labels = labels;
  }

  /** Adds `counts[i]` to bucket `bounds[i]` (the last slot is above every bound), plus sum and count. */
  add(
    bounds: readonly number[],
    counts: Float64Array,
    sum: number,
    count: number,
    exemplars: (ExemplarValue | undefined)[] | undefined,
  ): void {
    const map = (this.#h as unknown as HistogramInternals).hashMap;
    if (this.#entry === undefined || this.#map !== map || map[this.#key!] !== this.#entry) {
      let key = findKey(this.#h, this.#labels);
      if (key === undefined) {
        this.#h.zero(this.#labels);
        key = findKey(this.#h, this.#labels);
      }
      this.#key = key;
      this.#map = (this.#h as unknown as HistogramInternals).hashMap;
      this.#entry = key === undefined ? undefined : this.#map[key];
    }
    const e = this.#entry!;
    for (let i = 0; i < bounds.length; i++) {
      const n = counts[i]!;
      if (n > 0) e.bucketValues[bounds[i]!] = (e.bucketValues[bounds[i]!] ?? 0) + n;
    }
    e.sum += sum;
    e.count += count;
    if (exemplars && e.bucketExemplars) {
      for (let i = 0; i <= bounds.length; i++) {
        const x = exemplars[i];
        if (x) e.bucketExemplars[i < bounds.length ? String(bounds[i]) : '-1'] = x;
      }
    }
  }
}
