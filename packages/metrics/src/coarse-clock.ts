/**
 * A `Clock` whose `now()` is a field read: the system time refreshed by one unref'ed interval
 * (every 25 ms by default). The sliding windows have 1 s slots, so that resolution is plenty, and
 * an event no longer pays a `Date.now()` call (about 40 ns here). Timers go to `systemClock`.
 */
import { type Clock, systemClock, type TimerHandle } from '@perf/core';

export class CoarseClock implements Clock {
  #now = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(resolutionMs = 25) {
    this.#timer = setInterval(() => {
      this.#now = Date.now();
    }, resolutionMs);
    this.#timer.unref();
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return systemClock.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    systemClock.clearTimeout(handle);
  }

  /** Stops the refresh interval. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
