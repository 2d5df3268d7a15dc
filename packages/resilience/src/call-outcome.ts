/**
 * What became of a call, and what the caller gets: attempts are counted where cockatiel runs them
 * (the executor), calls that never reached an attempt (rejected, queued, aborted) are counted
 * here, then the outcome is published, gets its span, and may be answered by a fallback.
 */
import {
  type BreakerCallOutcome,
  BulkheadRejectedError,
  channels,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  isPerfClosedError,
  isPerfTimeoutError,
} from '@perf/core';
import { elapsedMs, UNTIMED } from '@perf/core/internal';
import { abortError, isAbortLike, RELEASED } from './abort-helpers.js';
import type { BreakerCore } from './breaker-core.js';
import { type FallbackOption, type FallbackReason, fallbackCheck } from './breaker-options.js';
import {
  isCockatielBroken,
  isCockatielBulkheadRejected,
  isCockatielIsolated,
  isCockatielTaskCancelled,
} from './cockatiel-errors.js';
import { NO_FALLBACK, resolveFallback } from './fallback.js';
import { brokenCircuit, isolatedCircuit } from './fast-errors.js';
import { recordCallSpan } from './tracing.js';

const callChannel = channels.breaker.call;

/** A successful result that took at least `slowCallMs`: the executor counts it as a failure. */
export class SlowResult {
  constructor(readonly value: unknown) {}
}

/** Whether `error` counts against the breaker: timeouts always, aborts never, else `errorFilter`. */
export function countsAgainst(core: BreakerCore, error: unknown): boolean {
  if (isPerfTimeoutError(error)) return true;
  if (isAbortLike(error)) return false;
  const filter = core.profile.options.errorFilter;
  if (filter === undefined) return true;
  try {
    return filter(error) === true;
  } catch {
    return true; // a throwing filter must not hide a failure
  }
}

/** Counts an attempt that threw; true when it is a failure the breaker counts. */
export function countAttemptError(core: BreakerCore, error: unknown): boolean {
  if (error === RELEASED) return false;
  if (isPerfTimeoutError(error)) {
    core.incidents.timeouts++;
    core.noteFailure(error, core.profile.clock.now());
    recordCallSpan(core.name, 'timeout', core.state, error);
    return true;
  }
  if (isAbortLike(error)) {
    core.incidents.aborted++;
    return false;
  }
  if (countsAgainst(core, error)) {
    core.noteFailure(error, core.profile.clock.now());
    recordCallSpan(core.name, 'failure', core.state, error);
    return true;
  }
  core.incidents.ignored++;
  return false;
}

/** Counts an attempt that returned; true when it was slow (a failure for the breaker). */
export function countAttemptResult(core: BreakerCore, value: unknown): boolean {
  if (value instanceof SlowResult) {
    const incidents = core.incidents;
    incidents.slowCalls++;
    core.failures++;
    incidents.lastFailure = {
      at: core.profile.clock.now(),
      message: `slow call (>= ${core.profile.options.slowCallMs} ms)`,
    };
    return true;
  }
  core.successes++;
  return false;
}

/** Publishes `perf:breaker:call` for a call timed from `started` (a `startTimer` result). */
export function publishCall(
  core: BreakerCore,
  outcome: BreakerCallOutcome,
  started: number,
  error: unknown,
  slow: boolean,
): void {
  if (!callChannel.hasSubscribers) return;
  callChannel.publish({
    name: core.name,
    outcome,
    durationMs: elapsedMs(started, core.profile.clock),
    ...(slow ? { slow } : {}),
    ...(error === undefined ? {} : { error }),
  });
}

/**
 * Settles a call that failed: counts what the executor could not, publishes the outcome, and
 * resolves with a fallback's answer or rejects with the error the caller sees.
 */
export async function onCallError(
  core: BreakerCore,
  error: unknown,
  signal: AbortSignal | undefined,
  started: number,
  callFallback: FallbackOption | undefined,
): Promise<unknown> {
  let outcome: BreakerCallOutcome;
  let reason: FallbackReason | undefined;
  let thrown: unknown = error;
  if (isCockatielIsolated(error) || isIsolatedCircuitError(error)) {
    outcome = 'rejected';
    reason = 'isolated';
    core.incidents.rejections++;
    if (isCockatielIsolated(error)) thrown = isolatedCircuit(core.name);
  } else if (isCockatielBroken(error) || isBrokenCircuitError(error)) {
    outcome = 'rejected';
    reason = 'open';
    core.incidents.rejections++;
    if (isCockatielBroken(error)) thrown = brokenCircuit(core.openMessage, core.lastError);
  } else if (isCockatielBulkheadRejected(error)) {
    outcome = 'bulkhead-rejected';
    reason = 'bulkhead';
    core.incidents.bulkheadRejections++;
    const b = core.profile.options.bulkhead;
    thrown = new BulkheadRejectedError(
      `Circuit breaker "${core.name}": bulkhead full (${b?.limit} running, ${b?.queue} queued)`,
      { cause: error },
    );
  } else if (isPerfClosedError(error)) {
    throw error;
  } else if (isCockatielTaskCancelled(error) || (signal?.aborted && isAbortLike(error))) {
    // A caller that gave up while queued or waiting on a probe (cockatiel's TaskCancelledError
    // never reaches the executor's count), or an abort the executor already counted.
    outcome = 'aborted';
    if (isCockatielTaskCancelled(error)) core.incidents.aborted++;
    // What fn threw on abort is passed through; a cancelled wait becomes PerfAbortError.
    if (isCockatielTaskCancelled(error) && signal !== undefined) thrown = abortError(signal);
  } else if (isPerfTimeoutError(error)) {
    outcome = 'timeout';
    reason = 'timeout';
  } else if (countsAgainst(core, error)) {
    outcome = 'failure';
    reason = 'failure';
  } else {
    outcome = 'ignored-failure';
  }
  if (started !== UNTIMED) publishCall(core, outcome, started, thrown, false);
  // Failures and timeouts got their span in the executor, once per attempt.
  if (outcome === 'rejected' || outcome === 'bulkhead-rejected') {
    recordCallSpan(core.name, outcome, core.state, thrown);
  }
  const fallback =
    callFallback === undefined
      ? core.profile.options.fallback
      : fallbackCheck(callFallback, { owner: 'execute', field: 'fallback' });
  if (reason === undefined || fallback === undefined) throw thrown;
  const answer = await resolveFallback(fallback, thrown, { name: core.name, reason });
  if (answer === NO_FALLBACK) throw thrown;
  core.incidents.fallbacks++;
  if (started !== UNTIMED) publishCall(core, 'fallback', started, thrown, false);
  return answer;
}
