/**
 * A budget of distinct values per label of one metric. Values past the budget are replaced by
 * `__other__` (so a runaway label such as a per-session namespace cannot grow the registry without
 * bound) and every replacement is reported through `onOverflow`, which @perf/metrics counts in
 * `perf_metrics_label_overflow_total`.
 */
export const OTHER_LABEL_VALUE = '__other__';

export class CardinalityGuard {
  readonly maxValuesPerLabel: number;
  #admitted: Set<string>[];
  #labelNames: readonly string[];
  #onOverflow: (label: string) => void;

  constructor(labelNames: readonly string[], maxValuesPerLabel: number, onOverflow: (label: string) => void) {
    this.maxValuesPerLabel = maxValuesPerLabel;
    this.#labelNames = labelNames;
    this.#admitted = labelNames.map(() => new Set<string>());
    this.#onOverflow = onOverflow;
  }

  /** True when `value` is already admitted for label number `index` (no side effect). */
  has(index: number, value: string): boolean {
    return this.#admitted[index]!.has(value);
  }

  /** Returns `value` when it fits the budget of label number `index`, else `__other__` (counted). */
  admit(index: number, value: string): string {
    const seen = this.#admitted[index]!;
    if (seen.has(value)) return value;
    if (seen.size < this.maxValuesPerLabel) {
      seen.add(value);
      return value;
    }
    this.#onOverflow(this.#labelNames[index]!);
    return OTHER_LABEL_VALUE;
  }

  /** Distinct admitted values per label, for tests and diagnostics. */
  sizes(): number[] {
    return this.#admitted.map((s) => s.size);
  }
}
