/**
 * Timeouts for many operations that all share one bound, with one timer instead of one per
 * operation: deadlines arrive in order, so the queue only ever watches its oldest live entry.
 * Finishing an operation is a flag flip; finished entries are swept from the front lazily.
 */
import type { Clock, TimerHandle } from '@perf/core';

export interface DeadlineTicket {
  /** Set when the operation finished; its `onExpire` will not run. */
  done: boolean;
}

interface Entry extends DeadlineTicket {
  at: number;
  onExpire: () => void;
}

export class DeadlineQueue {
  readonly #clock: Clock;
  readonly #ms: number;
  #entries: Entry[] = [];
  #head = 0;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, ms: number) {
    this.#clock = clock;
    this.#ms = ms;
  }

  /** Live (unfinished, unexpired) entries plus finished ones not yet swept; for tests. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Calls `onExpire` after the bound unless the returned ticket is marked `done` first. */
  track(onExpire: () => void): DeadlineTicket {
    this.#sweep();
    const entry: Entry = { at: this.#clock.now() + this.#ms, onExpire, done: false };
    this.#entries.push(entry);
    if (this.#timer === undefined) this.#arm(this.#ms);
    return entry;
  }

  /** Expires everything still pending now (used on close). */
  expireAll(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const entries = this.#entries;
    const head = this.#head;
    this.#entries = [];
    this.#head = 0;
    for (let i = head; i < entries.length; i++) {
      const e = entries[i]!;
      if (!e.done) {
        e.done = true;
        e.onExpire();
      }
    }
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, ms));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    const entries = this.#entries;
    while (this.#head < entries.length) {
      const e = entries[this.#head]!;
      if (!e.done && e.at > now) break;
      this.#head++;
      if (!e.done) {
        e.done = true;
        e.onExpire();
      }
    }
    this.#compact();
    if (this.#head < this.#entries.length) this.#arm(this.#entries[this.#head]!.at - now);
  };

  /** Drops finished entries from the front. */
  #sweep(): void {
    const entries = this.#entries;
    while (this.#head < entries.length && entries[this.#head]!.done) this.#head++;
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#entries.length) {
      this.#entries.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
