/**
 * The one timer-delay rule of @perf. Node fires a timer whose delay exceeds 2^31 - 1 ms after 1 ms
 * instead, which would turn a generous timeout into an immediate one. So:
 * - an option that becomes a timer delay is refused past `MAX_TIMER_DELAY_MS` (`is.delayMs`,
 *   `is.nonNegativeDelayMs`: one message everywhere);
 * - a delay a library computes itself (time left until a deadline) is clamped with
 *   `clampTimerDelay`, and the code that waits re-checks when the clamped timer fires.
 */

/** The longest delay a Node.js timer honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** `ms` capped to `MAX_TIMER_DELAY_MS`, for delays computed at run time. */
export function clampTimerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}
