/** Timer delays Node can honour (internal). */

import { MAX_TIMER_DELAY_MS } from '@perf/core';

/**
 * Node fires a timer whose delay exceeds `MAX_TIMER_DELAY_MS` after 1 ms instead. Delays are capped
 * to it; code that waits longer re-checks when the capped timer fires.
 */
export function timerDelay(ms: number): number {
  return ms > MAX_TIMER_DELAY_MS ? MAX_TIMER_DELAY_MS : ms;
}
