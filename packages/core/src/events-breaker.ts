/** Payloads of the `perf:breaker:*` channels, published by @perf/resilience. */
import type { CircuitState } from './circuit-breaker.js';

export interface BreakerStateEvent {
  /** The breaker's `name` option. */
  name: string;
  from: CircuitState;
  to: CircuitState;
  /** What caused the move, e.g. `failures`, `half-open timer`, `probe succeeded`, `isolate`, `reset`, `remote`. */
  reason?: string;
}

export type BreakerCallOutcome =
  | 'success'
  | 'failure'
  | 'ignored-failure'
  | 'rejected'
  | 'timeout'
  | 'bulkhead-rejected'
  | 'fallback'
  /** The caller's AbortSignal ended the call; never counts against the breaker. */
  | 'aborted';

export interface BreakerCallEvent {
  name: string;
  outcome: BreakerCallOutcome;
  /** True when the call exceeded `slowCallMs` (and so counted against the breaker). */
  slow?: boolean;
  durationMs: number;
  error?: unknown;
}
