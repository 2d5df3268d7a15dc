/**
 * Time you can control. Every TTL, window and timeout in @perf reads time through a `Clock`,
 * so tests can move time by hand instead of sleeping.
 */

import { clampTimerDelay } from './timer-delay.js';

/** An opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Milliseconds since the Unix epoch (wall time, comparable across processes). */
  now(): number;
  /** Runs `fn` after `ms`; the system clock's timers are unref'ed so they never keep a process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** What a `Clock` option must be, in every @perf package's error message. */
export const CLOCK_MUST_BE = 'a Clock (an object with now, setTimeout and clearTimeout)';

/** The one duck-type check for a `Clock` (an injected `ManualClock`, sinon's fake timers...). */
export function isClock(value: unknown): value is Clock {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Clock).now === 'function' &&
    typeof (value as Clock).setTimeout === 'function' &&
    typeof (value as Clock).clearTimeout === 'function'
  );
}

/**
 * The real clock: `Date.now()` and unref'ed Node timers. A delay past `MAX_TIMER_DELAY_MS` is
 * clamped to it (Node would fire it after 1 ms).
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, clampTimerDelay(ms));
    t.unref();
    return t;
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
});

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time order (timers
 * scheduled by a firing timer fire too if they fall within the window).
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, ManualTimer>();

  constructor(startAt = 1_700_000_000_000) {
    this.#now = startAt;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, ms), seq, fn });
    return { seq };
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete((handle as { seq: number }).seq);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Sets the time to `epochMs` (forward only), firing due timers. */
  set(epochMs: number): void {
    this.advance(Math.max(0, epochMs - this.#now));
  }
}
