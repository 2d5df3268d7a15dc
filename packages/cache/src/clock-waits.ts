/** Waiting on a `Clock`: a cancellable sleep and a soft timeout. */
import { type Clock, PerfAbortError } from '@perf/core';

/**
 * Resolves after `ms` on `clock`.
 * @throws {PerfAbortError} when `signal` aborts first (the timer is cleared).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new PerfAbortError(undefined, { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(new PerfAbortError(undefined, { cause: signal?.reason }));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const SOFT_TIMEOUT: unique symbol = Symbol('soft-timeout');

/**
 * Settles like `promise`, or resolves to `SOFT_TIMEOUT` once `ms` passed on `clock`; the timer is
 * cleared either way. `promise` keeps running.
 */
export function withSoftTimeout<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock,
): Promise<T | typeof SOFT_TIMEOUT> {
  return new Promise<T | typeof SOFT_TIMEOUT>((resolve, reject) => {
    const timer = clock.setTimeout(() => resolve(SOFT_TIMEOUT), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
