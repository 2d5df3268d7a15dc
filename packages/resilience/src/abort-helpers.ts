/**
 * Signals and promises around one call: the never-aborting signal, the caller's abort, and the
 * race that releases a waiting caller as soon as its signal aborts.
 */
import { setMaxListeners } from 'node:events';
import { isPerfAbortError, PerfAbortError } from '@perf/core';
import { isCockatielTaskCancelled } from './cockatiel-errors.js';

/**
 * What `fn` receives when the caller passed no signal and no timeout applies: one shared signal
 * that never aborts (like cockatiel's own). Listeners added to it stay until removed, so the
 * usual "many listeners" warning is off for it.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

/**
 * What a late attempt of a call released by its signal rejects with, inside the stack only: the
 * caller already got its own `PerfAbortError`, so this one is neither counted nor surfaced.
 */
export const RELEASED = new PerfAbortError('The caller was already released when its signal aborted');

/** Ours, cockatiel's cancelled wait, or any `AbortError` (what `fetch` throws on abort). */
export function isAbortLike(error: unknown): boolean {
  return (
    isPerfAbortError(error) ||
    isCockatielTaskCancelled(error) ||
    (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError')
  );
}

export function abortError(signal: AbortSignal): PerfAbortError {
  return new PerfAbortError('The call was aborted by its signal', { cause: signal.reason });
}

/**
 * A promise that rejects with `error` one microtask later. `Promise.reject(error)` is born rejected
 * before the caller can attach a handler, so Node's unhandled-rejection tracking records it and
 * then un-records it (most of a rejection's cost, about 0.5 to 1 us here). Rejecting a microtask
 * later finds the caller's `await` or `.catch` already attached; a caller that never handles it
 * still gets Node's usual unhandled-rejection report.
 */
export function rejectSoon<T>(error: unknown): Promise<T> {
  return new Promise<T>((_, reject) => {
    queueMicrotask(() => reject(error));
  });
}

/** How many attempts of one call are running `fn` right now. */
export interface RunningAttempts {
  running: number;
}

/** Runs one attempt, counting it in `call.running` until it settles. */
export function trackRunning<T>(call: RunningAttempts, attempt: () => Promise<T>): Promise<T> {
  call.running++;
  let result: Promise<T>;
  try {
    result = attempt();
  } catch (error) {
    call.running--;
    throw error;
  }
  return Promise.resolve(result).finally(() => {
    call.running--;
  });
}

/**
 * Rejects with `PerfAbortError` as soon as `signal` aborts while no attempt of the call is running
 * (it waits in a queue, behind a probe or in a retry backoff), without waiting for `promise`.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  call: RunningAttempts,
  aborted: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (call.running > 0) return; // fn got the signal and answers the abort itself
      aborted();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
