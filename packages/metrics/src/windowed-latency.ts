/**
 * Sliding-window latency percentiles. Each time slot holds a log-scale histogram (bins about 20 %
 * wide, 10 µs to about 2 min), so p50/p95/p99 over a window are a merge and a walk: no samples kept.
 * Two rings: 1 s slots for the last minute and 15 s slots for the last 15 minutes. Slot storage is
 * allocated on first use and released as slots slide out: memory follows activity.
 */
const MIN_SECONDS = 1e-5;
const GROWTH = 1.2;
const LOG_GROWTH = Math.log(GROWTH);
/** Number of bins; the last one also takes everything above its lower bound. */
export const LATENCY_BINS = 90;

/** The bin a duration in seconds falls in. */
export function binOf(seconds: number): number {
  if (!(seconds > MIN_SECONDS)) return 0;
  const b = Math.floor(Math.log(seconds / MIN_SECONDS) / LOG_GROWTH) + 1;
  return b < LATENCY_BINS ? b : LATENCY_BINS - 1;
}

/** A representative value (seconds) for a bin: the geometric middle of its bounds. */
export function binValue(bin: number): number {
  if (bin <= 0) return MIN_SECONDS;
  return MIN_SECONDS * GROWTH ** (bin - 0.5);
}

/**
 * A ring of time slots, each a bin array allocated only when an observation lands in it (and
 * dropped when the slot slides out), so an idle or sparse series costs a few hundred bytes and only
 * busy ones hold the full ring (60 x 90 counters).
 */
class LatencyRing {
  readonly slotMs: number;
  readonly slotCount: number;
  readonly #slots: (Uint32Array | undefined)[];
  #head = -1;

  constructor(slotMs: number, slotCount: number) {
    this.slotMs = slotMs;
    this.slotCount = slotCount;
    this.#slots = new Array(slotCount).fill(undefined);
  }

  add(bin: number, now: number): void {
    const slot = Math.floor(now / this.slotMs);
    if (slot > this.#head) this.#advance(slot);
    const i = this.#head % this.slotCount;
    let bins = this.#slots[i];
    if (bins === undefined) {
      bins = new Uint32Array(LATENCY_BINS);
      this.#slots[i] = bins;
    }
    bins[bin]! += 1;
  }

  mergeInto(target: Float64Array, windowMs: number, now: number): void {
    const slot = Math.floor(now / this.slotMs);
    if (slot > this.#head) this.#advance(slot);
    const k = Math.min(this.slotCount, Math.max(1, Math.ceil(windowMs / this.slotMs)));
    for (let i = 0; i < k; i++) {
      const abs = this.#head - i;
      if (abs < 0) break;
      const bins = this.#slots[abs % this.slotCount];
      if (bins === undefined) continue;
      for (let b = 0; b < LATENCY_BINS; b++) target[b]! += bins[b]!;
    }
  }

  /** Slots holding a bin array (for tests of the memory bound). */
  get allocatedSlots(): number {
    let n = 0;
    for (const s of this.#slots) if (s !== undefined) n++;
    return n;
  }

  #advance(slot: number): void {
    const gap = this.#head < 0 ? this.slotCount : slot - this.#head;
    if (gap >= this.slotCount) this.#slots.fill(undefined);
    else for (let s = this.#head + 1; s <= slot; s++) this.#slots[s % this.slotCount] = undefined;
    this.#head = slot;
  }
}

/** Latency observations over sliding windows of up to 15 minutes. */
export class WindowedLatency {
  #fine = new LatencyRing(1000, 60);
  #coarse = new LatencyRing(15_000, 60);

  /** Records one duration, in seconds. */
  observe(seconds: number, now: number): void {
    const bin = binOf(seconds);
    this.#fine.add(bin, now);
    this.#coarse.add(bin, now);
  }

  /** Slot bin arrays currently held (both rings). */
  get allocatedSlots(): number {
    return this.#fine.allocatedSlots + this.#coarse.allocatedSlots;
  }

  /** Adds this window's bin counts into `target` (length `LATENCY_BINS`). */
  mergeInto(target: Float64Array, windowMs: number, now: number): void {
    (windowMs <= 60_000 ? this.#fine : this.#coarse).mergeInto(target, windowMs, now);
  }
}

/** The `q` quantile (0..1) of merged bins, in seconds; `undefined` when empty. */
export function quantileOf(bins: Float64Array, q: number): number | undefined {
  let total = 0;
  for (let b = 0; b < bins.length; b++) total += bins[b]!;
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let b = 0; b < bins.length; b++) {
    seen += bins[b]!;
    if (seen >= rank) return binValue(b);
  }
  return binValue(bins.length - 1);
}
