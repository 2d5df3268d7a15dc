/** Timer delays Node can honour (internal). */

/**
 * Node fires a timer whose delay exceeds 2^31 - 1 ms (about 24.8 days) after 1 ms instead. Delays are
 * capped to this; code that waits longer re-checks when the capped timer fires.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export function timerDelay(ms: number): number {
  return ms > MAX_TIMER_DELAY_MS ? MAX_TIMER_DELAY_MS : ms;
}
