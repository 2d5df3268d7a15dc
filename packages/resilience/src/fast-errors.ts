/**
 * Rejections while open are the hot path of an outage, and capturing a stack trace is most of
 * what a `new Error()` costs. Like resilience4j's `CallNotPermittedException` (built without a
 * stack trace), breaker rejections are built without one: the stack would only point into the
 * breaker, never at the cause.
 */
import { BrokenCircuitError, IsolatedCircuitError } from '@perf/core';

function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A `BrokenCircuitError` for breaker `name`; `cause` is the failure that opened it, when known. */
export function brokenCircuit(name: string, cause: unknown): BrokenCircuitError {
  return withoutStack(
    () =>
      new BrokenCircuitError(
        `Circuit breaker "${name}" is open: call rejected without running`,
        cause === undefined ? undefined : { cause },
      ),
  );
}

/** An `IsolatedCircuitError` for breaker `name`. */
export function isolatedCircuit(name: string): IsolatedCircuitError {
  return withoutStack(
    () => new IsolatedCircuitError(`Circuit breaker "${name}" is isolated: call rejected without running`),
  );
}
