/** The contract @perf/resilience implements and @perf/cache accepts around its Redis tier. */

export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface CircuitBreakerStats {
  name: string;
  state: CircuitState;
  /** Calls offered to `execute`. */
  calls: number;
  successes: number;
  /** Failures that counted against the breaker (filtered errors and slow calls included). */
  failures: number;
  /** Calls refused without running because the circuit was open, half-open-busy or isolated. */
  rejections: number;
  timeouts: number;
  slowCalls: number;
  fallbacks: number;
  /** Wall time (ms since epoch) the breaker entered its current state. */
  stateSince: number;
  timeInStateMs: number;
  lastFailure?: { at: number; message: string };
  /** State changes since creation. */
  transitions: number;
}

export interface CircuitBreaker {
  readonly name: string;
  readonly state: CircuitState;
  /**
   * Runs `fn` through the breaker.
   * @throws {BrokenCircuitError} while open, without calling `fn`.
   * @throws {IsolatedCircuitError} while isolated, without calling `fn`.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Holds the breaker open until the returned handle is disposed (or `reset()` is called). */
  isolate(): { dispose(): void };
  /** Closes the breaker and clears its failure history. */
  reset(): void;
  stats(): CircuitBreakerStats;
}
