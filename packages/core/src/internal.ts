/**
 * `@perf/core/internal`: what @perf packages share to build themselves (the options checker,
 * value descriptions for error messages, the timer-delay rule, observed-only timing). Not for
 * applications: it may change in any minor release.
 */
export { CLOCK_MUST_BE, isClock } from './clock.js';
export { describeValue } from './errors.js';
export {
  type Check,
  type CheckContext,
  type CheckedOptions,
  check,
  checkOptions,
  is,
  isPlainObject,
  optional,
  withDefault,
} from './options.js';
export { clampTimerDelay, MAX_TIMER_DELAY_MS } from './timer-delay.js';
export { elapsedMs, startTimer, type TimeSource, UNTIMED } from './timing.js';
