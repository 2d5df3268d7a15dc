/**
 * Rejections while open are the hot path of an outage, and capturing a stack trace is most of
 * what a `new Error()` costs. Like resilience4j's `CallNotPermittedException` (built without a
 * stack trace), breaker rejections are built without one: the stack would only point into the
 * breaker, never at the cause.
 */
import { BrokenCircuitError, IsolatedCircuitError } from '@perf/core';

/** A `BrokenCircuitError` with `message`; `cause` is the failure that opened the breaker, when known. */
export function brokenCircuit(message: string, cause: unknown): BrokenCircuitError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new BrokenCircuitError(message, cause === undefined ? undefined : { cause });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** An `IsolatedCircuitError` for breaker `name`. */
export function isolatedCircuit(name: string): IsolatedCircuitError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new IsolatedCircuitError(`Circuit breaker "${name}" is isolated: call rejected without running`);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
