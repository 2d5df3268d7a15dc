/**
 * Correct guards for cockatiel's error classes.
 *
 * cockatiel 3.2.1 ships `isIsolatedCircuitError` and `isTaskCancelledError` checking the
 * `isBulkheadRejectedError` marker (cockatiel #103), so they answer for the wrong errors. These
 * guards check each class's own marker property instead, and never rely on `instanceof` (a second
 * copy of cockatiel in node_modules still matches).
 */

function hasMarker(error: unknown, marker: string): boolean {
  return typeof error === 'object' && error !== null && (error as Record<string, unknown>)[marker] === true;
}

/** cockatiel's `IsolatedCircuitError` (a breaker held open by `isolate()`). */
export function isCockatielIsolated(error: unknown): boolean {
  return hasMarker(error, 'isIsolatedCircuitError');
}

/**
 * cockatiel's `BrokenCircuitError` that is not an isolation (cockatiel's `IsolatedCircuitError`
 * extends `BrokenCircuitError`, so check isolation first).
 */
export function isCockatielBroken(error: unknown): boolean {
  return hasMarker(error, 'isBrokenCircuitError') && !hasMarker(error, 'isIsolatedCircuitError');
}

/** cockatiel's `BulkheadRejectedError`. */
export function isCockatielBulkheadRejected(error: unknown): boolean {
  return hasMarker(error, 'isBulkheadRejectedError');
}

/** cockatiel's `TaskCancelledError` (aggressive timeout, or a cancelled wait). */
export function isCockatielTaskCancelled(error: unknown): boolean {
  return hasMarker(error, 'isTaskCancelledError');
}
