/** What one `execute` call takes besides the function. */
import type { FallbackOption } from './breaker-options.js';

/** Options of one `execute` call. */
export interface ExecuteOptions {
  /** Aborting it stops waiting (bulkhead queue, half-open probe) and aborts the function's signal. */
  signal?: AbortSignal;
  /** Overrides the breaker's `fallback` for this call (e.g. a per-key cache fallback). */
  fallback?: FallbackOption;
}
