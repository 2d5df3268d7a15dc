/**
 * A sliding-window counter: a ring of fixed time slots (1 s by default) that answers "how many
 * in the last N seconds" in O(slots), with O(1) adds. Slots that time has passed are zeroed lazily.
 */
export class WindowedCounter {
  readonly slotMs: number;
  readonly slotCount: number;
  #buf: Float64Array;
  /** Absolute index (time / slotMs) of the newest slot. */
  #head = -1;

  constructor(slotMs: number, slotCount: number) {
    this.slotMs = slotMs;
    this.slotCount = slotCount;
    this.#buf = new Float64Array(slotCount);
  }

  /** Adds `n` to the slot `now` falls in (a time before the newest slot counts in the newest slot). */
  add(n: number, now: number): void {
    const slot = Math.floor(now / this.slotMs);
    if (slot > this.#head) this.#advance(slot);
    this.#buf[this.#head % this.slotCount]! += n;
  }

  /** Sum over the last `windowMs` (whole slots, the current partial one included). */
  sum(windowMs: number, now: number): number {
    const slot = Math.floor(now / this.slotMs);
    if (slot > this.#head) this.#advance(slot);
    const k = Math.min(this.slotCount, Math.max(1, Math.ceil(windowMs / this.slotMs)));
    let total = 0;
    for (let i = 0; i < k; i++) {
      const abs = this.#head - i;
      if (abs < 0) break;
      total += this.#buf[abs % this.slotCount]!;
    }
    return total;
  }

  #advance(slot: number): void {
    const gap = this.#head < 0 ? this.slotCount : slot - this.#head;
    if (gap >= this.slotCount) this.#buf.fill(0);
    else for (let s = this.#head + 1; s <= slot; s++) this.#buf[s % this.slotCount] = 0;
    this.#head = slot;
  }
}
