/**
 * The half-open timer, on the breaker's `Clock`.
 *
 * cockatiel decides whether an open circuit may try a probe with
 * `Date.now() - openedAt < backoff.duration`, reading the wall clock itself. This factory hands
 * cockatiel backoffs whose `duration` is `+Infinity` while the breaker's own clock says the open
 * period is still running and `-Infinity` once it is over, so the decision follows the injected
 * clock (a `ManualClock` in tests) while cockatiel keeps doing the state machine.
 */
import type { Clock } from '@perf/core';
import type { IBackoff, IBackoffFactory, IHalfOpenAfterBackoffContext } from 'cockatiel';

type Context = IHalfOpenAfterBackoffContext;

export class ClockHalfOpenBackoff implements IBackoffFactory<Context> {
  readonly #clock: Clock;
  readonly #inner: IBackoffFactory<Context>;
  /** When set, backoffs created during hydration start at this time instead of now. */
  #hydrateOpenedAt: number | undefined;
  /** Clock time the current (or last) open period started. */
  openedAt = 0;
  /** Clock time the current (or last) open period ends. */
  openUntil = 0;

  constructor(clock: Clock, inner: IBackoffFactory<Context>) {
    this.#clock = clock;
    this.#inner = inner;
  }

  /** Backoffs created until `endHydration()` date their open period from `openedAt`. */
  beginHydration(openedAt: number): void {
    this.#hydrateOpenedAt = openedAt;
  }

  endHydration(): void {
    this.#hydrateOpenedAt = undefined;
  }

  /** True while the clock says the current open period is running. */
  isOpenPeriod(): boolean {
    return this.#clock.now() < this.openUntil;
  }

  next(context: Context): IBackoff<Context> {
    return this.#wrap(this.#inner.next(context));
  }

  #wrap(inner: IBackoff<Context>): IBackoff<Context> {
    const openedAt = this.#hydrateOpenedAt ?? this.#clock.now();
    const openUntil = openedAt + inner.duration;
    this.openedAt = openedAt;
    this.openUntil = openUntil;
    const clock = this.#clock;
    return {
      get duration() {
        return clock.now() < openUntil ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      },
      next: (ctx: Context) => this.#wrap(inner.next(ctx)),
    };
  }
}
