/**
 * The errors a breaker throws, re-exported from @perf/core so users import them from here. Their
 * guards check a `Symbol.for` marker and the stable code, so they hold across duplicate installs.
 */
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  IsolatedCircuitError,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
} from '@perf/core';
