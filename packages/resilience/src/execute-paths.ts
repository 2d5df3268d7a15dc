/**
 * The three ways a call goes through a breaker:
 * - lean: closed, nothing but the breaker configured, nobody observing calls: cockatiel's own
 *   promise is returned as is, and the executor did the counting;
 * - fast rejection while open: no async frames, one stackless error, a promise that rejects a
 *   microtask later;
 * - full: everything else (timeout, slow calls, retry, bulkhead, fallback, signals, observers).
 */
import { channels, PerfClosedError, PerfTimeoutError } from '@perf/core';
import { startTimer, UNTIMED } from '@perf/core/internal';
import { CircuitState as CockatielState, type IDefaultPolicyContext } from 'cockatiel';
import {
  abortError,
  NEVER_ABORTED,
  RELEASED,
  type RunningAttempts,
  raceAbort,
  rejectSoon,
  trackRunning,
} from './abort-helpers.js';
import type { BreakerCore } from './breaker-core.js';
import { onCallError, publishCall, SlowResult } from './call-outcome.js';
import { isCockatielTaskCancelled } from './cockatiel-errors.js';
import type { ExecuteOptions } from './execute-options.js';
import { rememberForFallback } from './fallback.js';
import { brokenCircuit, isolatedCircuit } from './fast-errors.js';
import { recordCallSpan } from './tracing.js';

type Fn<T> = (signal: AbortSignal) => Promise<T>;
/** What cockatiel's `execute` is typed to take; the executor calls it with the context's signal. */
type Attempt<T> = (context: IDefaultPolicyContext) => Promise<T>;

const callChannel = channels.breaker.call;

/** Runs one call whose arguments were checked (see `ResilientCircuitBreaker.execute`). */
export function executeCall<T>(
  core: BreakerCore,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
): Promise<T> {
  core.calls++;
  const policy = core.policy;
  if (
    core.profile.lean &&
    !core.closed &&
    policy.state === CockatielState.Closed &&
    !callChannel.hasSubscribers
  ) {
    // `fn` itself goes to cockatiel, which (closed) runs it at once through the executor with the
    // signal given here: the caller's, or the shared never-aborting one.
    const signal = options?.signal;
    if (options?.fallback === undefined && signal?.aborted !== true) {
      return policy.execute(fn as unknown as Attempt<T>, signal ?? NEVER_ABORTED);
    }
  }
  if (
    policy.state === CockatielState.Open &&
    core.profile.options.fallback === undefined &&
    !core.closed &&
    options?.fallback === undefined &&
    options?.signal?.aborted !== true &&
    !callChannel.hasSubscribers &&
    core.halfOpen.isOpenPeriod()
  ) {
    core.incidents.rejections++;
    const error = brokenCircuit(core.openMessage, core.lastError);
    recordCallSpan(core.name, 'rejected', 'open', error);
    return rejectSoon(error);
  }
  return executeFull(core, fn, options);
}

async function executeFull<T>(core: BreakerCore, fn: Fn<T>, options: ExecuteOptions | undefined): Promise<T> {
  const signal = options?.signal;
  const started = startTimer(callChannel, core.profile.clock);
  const plain = core.profile.plain;
  let value: unknown;
  try {
    if (signal?.aborted) {
      core.incidents.aborted++;
      throw abortError(signal);
    }
    if (core.policy.state !== CockatielState.Closed || core.closed) precheck(core);
    if (signal === undefined) {
      value = await core.entry.execute(plain ? () => fn(NEVER_ABORTED) : () => runInner(core, fn, undefined));
    } else {
      // cockatiel re-runs half-open waiters without their signal (#112): always use the caller's.
      const attempt = plain
        ? () => (signal.aborted ? Promise.reject(abortError(signal)) : fn(signal))
        : () => runInner(core, fn, signal);
      if (!mayWait(core)) {
        value = await core.entry.execute(attempt, signal);
      } else {
        // Released as soon as the signal aborts while the call waits (probe, queue, backoff);
        // while `fn` runs, `fn` answers the abort through its own signal, as on every path.
        const call: RunningAttempts = { running: 0 };
        const run = core.entry.execute(
          // An attempt that starts after the abort (a retry once its backoff ends) belongs to a
          // caller already released and counted: it runs nothing and is not counted again.
          () => (signal.aborted ? Promise.reject(RELEASED) : trackRunning(call, attempt)),
          signal,
        );
        value = await raceAbort(run, signal, call, () => {
          core.incidents.aborted++;
        });
      }
    }
  } catch (error) {
    return onCallError(core, error, signal, started, options?.fallback) as Promise<T>;
  }
  let slow = false;
  if (value instanceof SlowResult) {
    slow = true;
    value = value.value;
  }
  const fallback = options?.fallback ?? core.profile.options.fallback;
  if (fallback !== undefined) rememberForFallback(fallback, value);
  if (started !== UNTIMED) publishCall(core, slow ? 'failure' : 'success', started, undefined, slow);
  return value as T;
}

/** Refuses the call before entering cockatiel when closed, open (in its open period) or isolated. */
function precheck(core: BreakerCore): void {
  if (core.closed) throw new PerfClosedError(`Circuit breaker "${core.name}" is closed`);
  const s = core.policy.state;
  if (s === CockatielState.Isolated) throw isolatedCircuit(core.name);
  if (s === CockatielState.Open && core.halfOpen.isOpenPeriod()) {
    throw brokenCircuit(core.openMessage, core.lastError);
  }
}

/**
 * True when a call may wait: a half-open probe is running, the bulkhead queue is in use, or a
 * retry may back off (cockatiel's backoff sleep does not watch the caller's signal).
 */
function mayWait(core: BreakerCore): boolean {
  const stack = core.stack;
  return (
    stack?.retry !== undefined ||
    core.policy.state === CockatielState.HalfOpen ||
    (stack?.bulkhead !== undefined && stack.bulkhead.executionSlots === 0)
  );
}

/** The function under cockatiel when a timeout or slow-call detection is configured. */
async function runInner<T>(
  core: BreakerCore,
  fn: Fn<T>,
  callerSignal: AbortSignal | undefined,
): Promise<unknown> {
  if (callerSignal?.aborted) throw abortError(callerSignal);
  const clock = core.profile.clock;
  const slowMs = core.profile.options.slowCallMs;
  const started = slowMs === undefined ? 0 : clock.now();
  const value =
    core.stack?.timeout === undefined
      ? await fn(callerSignal ?? NEVER_ABORTED)
      : await runWithTimeout(core, fn, callerSignal);
  if (slowMs !== undefined && clock.now() - started >= slowMs) return new SlowResult(value);
  return value;
}

/** `signal` is the caller's only: cockatiel adds a listener to the parent signal per call. */
async function runWithTimeout<T>(core: BreakerCore, fn: Fn<T>, signal: AbortSignal | undefined): Promise<T> {
  let inner: AbortSignal | undefined;
  try {
    return await core.stack!.timeout!.execute((ctx) => {
      inner = ctx.signal;
      return fn(ctx.signal);
    }, signal);
  } catch (error) {
    if (!signal?.aborted && (isCockatielTaskCancelled(error) || inner?.aborted)) {
      const ms = core.profile.options.timeoutMs!;
      throw new PerfTimeoutError(`Circuit breaker "${core.name}": call timed out after ${ms} ms`, ms, {
        cause: error,
      });
    }
    throw error;
  }
}
