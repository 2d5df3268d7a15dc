/**
 * Timing an operation only when someone observes it. Publishers read a clock at the start of an
 * operation only when its channel has subscribers, so an unobserved service reads no clock at all:
 *
 *   const started = startTimer(channels.cache.operation);
 *   ...
 *   if (started !== UNTIMED) publish(..., { durationMs: elapsedMs(started) });
 */

/** What `startTimer` returns when nobody observes the channel: no clock was read. */
export const UNTIMED = -1;

/** Anything with a millisecond `now()`: a `Clock`, or `performance` (the default). */
export interface TimeSource {
  now(): number;
}

/**
 * The start of an operation on `source` (default `performance`, monotonic) when `channel` has
 * subscribers, else `UNTIMED`. Both time sources return non-negative values, so `UNTIMED` is never
 * a real start.
 */
export function startTimer(
  channel: { readonly hasSubscribers: boolean },
  source: TimeSource = performance,
): number {
  return channel.hasSubscribers ? source.now() : UNTIMED;
}

/** Milliseconds from `started` (a `startTimer` result other than `UNTIMED`) to now on `source`. */
export function elapsedMs(started: number, source: TimeSource = performance): number {
  return source.now() - started;
}
