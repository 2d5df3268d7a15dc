/**
 * The circuit breaker: cockatiel's `CircuitBreakerPolicy` (with its Consecutive, Count or Sampling
 * breaker, timeout, retry with backoff and bulkhead, composed with `wrap`) plus what cockatiel
 * lacks: slow calls, named states, cheap counters, events, spans, fallbacks, snapshots and sharing
 * across instances, and guards against three cockatiel 3.2.1 defects (#103, #112, #113).
 *
 * The stack, outermost first: fallback → bulkhead → retry → breaker → timeout → your function.
 * Bulkhead rejections never count against the breaker, retries stop once the breaker is open, and
 * a timeout counts as a failure.
 */
import { setMaxListeners } from 'node:events';
import {
  type BreakerCallOutcome,
  BulkheadRejectedError,
  type CircuitBreaker,
  type CircuitBreakerStats,
  type CircuitState,
  type Clock,
  channels,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  isPerfAbortError,
  isPerfClosedError,
  isPerfTimeoutError,
  PerfAbortError,
  PerfClosedError,
  PerfConfigError,
  PerfTimeoutError,
} from '@perf/core';
import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  ConstantBackoff,
  CountBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBreaker,
  type IDefaultPolicyContext,
  type IPolicy,
  noJitterGenerator,
  Policy,
  type RetryPolicy,
  retry,
  SamplingBreaker,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import {
  type CheckedBreakerOptions,
  type CircuitBreakerOptions,
  checkBreakerOptions,
  type FallbackOption,
  type FallbackReason,
  fallbackCheck,
} from './breaker-options.js';
import {
  type BreakerKind,
  type CircuitBreakerSnapshot,
  readSnapshot,
  stateFromIndex,
} from './breaker-snapshot.js';
import type { BreakerSync, BreakerSyncAttachment, SharedState } from './breaker-sync.js';
import {
  isCockatielBroken,
  isCockatielBulkheadRejected,
  isCockatielIsolated,
  isCockatielTaskCancelled,
} from './cockatiel-errors.js';
import { NO_FALLBACK, rememberForFallback, resolveFallback } from './fallback.js';
import { brokenCircuit, isolatedCircuit } from './fast-errors.js';
import { ClockHalfOpenBackoff } from './half-open-backoff.js';
import { recordCallSpan } from './tracing.js';

/** Options of one `execute` call. */
export interface ExecuteOptions {
  /** Aborting it stops waiting (bulkhead queue, half-open probe) and aborts the function's signal. */
  signal?: AbortSignal;
  /** Overrides the breaker's `fallback` for this call (e.g. a per-key cache fallback). */
  fallback?: FallbackOption;
}

/** `CircuitBreakerStats` plus the counters the wrapper adds. */
export interface ResilienceStats extends CircuitBreakerStats {
  /** Failures the `errorFilter` did not count (e.g. a 404). */
  ignoredFailures: number;
  /** Calls refused by the bulkhead (full and queue full). */
  bulkheadRejections: number;
  /** Retry attempts made after a first attempt failed. */
  retries: number;
  /** Calls given up by their caller's AbortSignal. */
  aborted: number;
  /** Failure policy: `consecutive`, `count` or `sampling`. */
  kind: BreakerKind;
}

/** A successful result that took at least `slowCallMs`: cockatiel's result filter counts it as a failure. */
class SlowResult {
  constructor(readonly value: unknown) {}
}

const STATE_REASONS: Record<CircuitState, string> = {
  open: 'failures',
  'half-open': 'half-open timer',
  closed: 'probe succeeded',
  isolated: 'isolate',
};

const OWNER = 'createCircuitBreaker';

/**
 * What `fn` receives when the caller passed no signal and no timeout applies: one shared signal
 * that never aborts (like cockatiel's own). Listeners added to it stay until removed, so the
 * usual "many listeners" warning is off for it.
 */
const NEVER_ABORTED = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

/**
 * Set by `createKeyedBreaker` for the one constructor call that follows, so a registry can hand
 * every breaker the same already-checked options object (10,000 breakers, one options object).
 */
let keyedPreset: { options: CheckedBreakerOptions; name: string; sync: BreakerSync | undefined } | undefined;
const callChannel = channels.breaker.call;

/**
 * What a late attempt of a call released by its signal rejects with, inside the stack only: the
 * caller already got its own `PerfAbortError`, so this one is neither counted nor surfaced.
 */
const RELEASED = new PerfAbortError('The caller was already released when its signal aborted');

function isAbortLike(error: unknown): boolean {
  return (
    isPerfAbortError(error) ||
    isCockatielTaskCancelled(error) ||
    (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError')
  );
}

function abortError(signal: AbortSignal): PerfAbortError {
  return new PerfAbortError('The call was aborted by its signal', { cause: signal.reason });
}

function badArgument(field: string, reason: string, value: unknown): PerfConfigError {
  return new PerfConfigError(field, reason, value, { owner: 'CircuitBreaker.execute' });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A named circuit breaker on cockatiel. Build it with `createCircuitBreaker(options)`.
 * Implements @perf/core's `CircuitBreaker`, so @perf/cache (or anything else) can take it.
 */
export class ResilientCircuitBreaker implements CircuitBreaker {
  readonly name: string;
  readonly #o: CheckedBreakerOptions;
  readonly #clock: Clock;
  readonly #kind: BreakerKind;
  readonly #halfOpen: ClockHalfOpenBackoff;
  readonly #breakerErrorFilter: (error: unknown) => boolean;
  readonly #breakerResultFilter: (value: unknown) => boolean;
  /** Plain breaker (no timeout, slow calls, retry, bulkhead or fallback): calls go straight to cockatiel. */
  #lean: boolean;
  readonly #bulkhead: BulkheadPolicy | undefined;
  readonly #retry: RetryPolicy | undefined;
  readonly #timeout: TimeoutPolicy | undefined;
  /** True when neither a timeout nor slow-call detection wraps the function (the lean path). */
  readonly #plain: boolean;
  #policy!: CircuitBreakerPolicy;
  #entry!: IPolicy<IDefaultPolicyContext>;
  #sync: BreakerSyncAttachment | undefined;
  /** Message of this breaker's rejections, built on the first rejection. */
  #openMessageText: string | undefined;
  /** Set while `reset()`/remote updates rebuild the policy, so cockatiel's own events are not re-published. */
  #quiet = false;
  #closed = false;

  #state: CircuitState = 'closed';
  #stateSince: number;
  #transitions = 0;
  #calls = 0;
  #successes = 0;
  #failures = 0;
  #ignored = 0;
  #rejections = 0;
  #bulkheadRejections = 0;
  #timeouts = 0;
  #slowCalls = 0;
  #fallbacks = 0;
  #retries = 0;
  #aborted = 0;
  #lastFailure: { at: number; message: string } | undefined;
  #lastError: unknown;

  /** @throws {PerfConfigError} naming the first invalid option. */
  constructor(options?: CircuitBreakerOptions) {
    const preset = keyedPreset;
    keyedPreset = undefined;
    const o = preset === undefined ? checkBreakerOptions(options, OWNER) : preset.options;
    this.#o = o;
    this.name = preset === undefined ? o.name : preset.name;
    this.#clock = o.clock;
    this.#stateSince = o.clock.now();
    this.#kind = o.window === undefined ? 'consecutive' : o.window.type;
    const snapshot =
      o.initialState === undefined ? undefined : readSnapshot(o.initialState, this.#kind, OWNER);

    const halfOpenInner =
      o.halfOpenBackoff === undefined
        ? new ConstantBackoff(o.halfOpenAfterMs)
        : new ExponentialBackoff({
            initialDelay: o.halfOpenAfterMs,
            maxDelay: o.halfOpenBackoff.maxDelayMs,
            generator: noJitterGenerator,
          });
    this.#halfOpen = new ClockHalfOpenBackoff(o.clock, halfOpenInner);

    // cockatiel calls these two on every attempt that reaches the breaker: they count outcomes
    // without onSuccess/onFailure listeners, which would make every call time itself.
    this.#breakerErrorFilter = (error) => {
      if (error === RELEASED) return false;
      if (isPerfTimeoutError(error)) {
        this.#timeouts++;
        this.#noteFailure(error);
        recordCallSpan(this.name, 'timeout', this.#state, error);
        return true;
      }
      if (isAbortLike(error)) {
        this.#aborted++;
        return false;
      }
      if (this.#countsAgainst(error)) {
        this.#noteFailure(error);
        recordCallSpan(this.name, 'failure', this.#state, error);
        return true;
      }
      this.#ignored++;
      return false;
    };
    this.#breakerResultFilter = (value) => {
      if (value instanceof SlowResult) {
        this.#slowCalls++;
        this.#failures++;
        this.#lastFailure = { at: this.#clock.now(), message: `slow call (>= ${this.#o.slowCallMs} ms)` };
        return true;
      }
      this.#successes++;
      return false;
    };

    this.#plain = o.timeoutMs === undefined && o.slowCallMs === undefined;
    this.#timeout =
      o.timeoutMs === undefined
        ? undefined
        : timeout(o.timeoutMs, {
            strategy:
              o.timeoutStrategy === 'cooperative' ? TimeoutStrategy.Cooperative : TimeoutStrategy.Aggressive,
            abortOnReturn: false,
          }).dangerouslyUnref();
    if (o.retry !== undefined) {
      const retryable = (error: unknown) =>
        this.#countsAgainst(error) &&
        !isCockatielBroken(error) &&
        !isCockatielIsolated(error) &&
        this.#policy.state !== CockatielState.Open &&
        this.#policy.state !== CockatielState.Isolated;
      this.#retry = retry(handleWhen(retryable), {
        maxAttempts: o.retry.maxAttempts,
        backoff: new ExponentialBackoff({
          initialDelay: o.retry.initialDelayMs,
          maxDelay: o.retry.maxDelayMs,
        }),
      }).dangerouslyUnref();
      this.#retry.onRetry(() => {
        this.#retries++;
      });
    }
    this.#bulkhead = o.bulkhead === undefined ? undefined : bulkhead(o.bulkhead.limit, o.bulkhead.queue);
    this.#lean =
      this.#plain && this.#retry === undefined && this.#bulkhead === undefined && o.fallback === undefined;

    if (snapshot === undefined) {
      this.#build(undefined);
    } else {
      this.#halfOpen.beginHydration(snapshot.openedAt);
      try {
        this.#build(snapshot.cockatiel);
      } finally {
        this.#halfOpen.endHydration();
      }
      this.#state =
        snapshot.state === 'half-open' ? 'open' : snapshot.state === 'isolated' ? 'closed' : snapshot.state;
      if (snapshot.state === 'isolated') this.isolate();
    }
    const sync = preset === undefined ? o.sync : preset.sync;
    if (sync !== undefined) {
      this.#sync = sync.attach(this.name, (state) => this.#applyRemote(state));
    }
  }

  /** `closed`, `open`, `half-open` (a probe is running) or `isolated`. */
  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Runs `fn` through the stack. `fn` receives an AbortSignal that aborts on timeout or when the
   * caller's `signal` aborts.
   * @throws {BrokenCircuitError} while open (without calling `fn`), unless a fallback answers.
   * @throws {IsolatedCircuitError} while isolated (without calling `fn`), unless a fallback answers.
   * @throws {BulkheadRejectedError} when the bulkhead and its queue are full, unless a fallback answers.
   * @throws {PerfTimeoutError} when an attempt ran past `timeoutMs`, unless a fallback answers.
   * @throws {PerfAbortError} when `options.signal` aborted before `fn` ran or while the call waited
   *   (an abort error thrown by `fn` itself passes through unchanged).
   * @throws {PerfClosedError} after `close()`.
   * @throws {PerfConfigError} when `fn` is not a function or `options.signal` not an AbortSignal (never counted).
   * @throws whatever `fn` threw, when no fallback answers.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options?: ExecuteOptions): Promise<T> {
    // A programming error must never count against the upstream: refuse it before the breaker.
    if (typeof fn !== 'function') return Promise.reject(badArgument('fn', 'must be a function', fn));
    const given = options?.signal;
    if (given !== undefined && typeof given?.addEventListener !== 'function') {
      return Promise.reject(badArgument('options.signal', 'must be an AbortSignal', given));
    }
    this.#calls++;
    // Lean path: closed, nothing but the breaker configured, nobody observing calls. cockatiel's
    // own promise is returned as is; its result and error filters did the counting.
    if (this.#lean && this.#policy.state === CockatielState.Closed && !callChannel.hasSubscribers) {
      const signal = options?.signal;
      if (signal === undefined) {
        if (options?.fallback === undefined) return this.#policy.execute(() => fn(NEVER_ABORTED));
      } else if (options?.fallback === undefined && !signal.aborted) {
        // Always hand `fn` the caller's signal: cockatiel drops it for half-open waiters (#112).
        return this.#policy.execute(
          () => (signal.aborted ? Promise.reject(abortError(signal)) : fn(signal)),
          signal,
        );
      }
    }
    // Fast rejection while open: no async frames, one stackless error (see fast-errors.ts), and a
    // promise that rejects a microtask later (see rejectSoon).
    if (
      this.#policy.state === CockatielState.Open &&
      this.#o.fallback === undefined &&
      !this.#closed &&
      options?.fallback === undefined &&
      options?.signal?.aborted !== true &&
      !callChannel.hasSubscribers &&
      this.#halfOpen.isOpenPeriod()
    ) {
      this.#rejections++;
      const error = brokenCircuit(this.#openMessage, this.#lastError);
      recordCallSpan(this.name, 'rejected', 'open', error);
      return rejectSoon(error);
    }
    return this.#executeFull(fn, options);
  }

  async #executeFull<T>(fn: (signal: AbortSignal) => Promise<T>, options?: ExecuteOptions): Promise<T> {
    const signal = options?.signal;
    const started = callChannel.hasSubscribers ? this.#clock.now() : -1;
    let value: unknown;
    try {
      if (signal?.aborted) {
        this.#aborted++;
        throw abortError(signal);
      }
      if (this.#policy.state !== CockatielState.Closed || this.#closed) this.#precheck();
      if (signal === undefined) {
        value = await this.#entry.execute(
          this.#plain ? () => fn(NEVER_ABORTED) : () => this.#runInner(fn, undefined),
        );
      } else {
        const mayWait = this.#mayWait();
        // cockatiel re-runs half-open waiters without their signal (#112): always use the caller's.
        const attempt = this.#plain
          ? () => (signal.aborted ? Promise.reject(abortError(signal)) : fn(signal))
          : () => this.#runInner(fn, signal);
        if (!mayWait) {
          value = await this.#entry.execute(attempt, signal);
        } else {
          // Released as soon as the signal aborts while the call waits (probe, queue, backoff);
          // while `fn` runs, `fn` answers the abort through its own signal, as on every path.
          const call: RunningAttempts = { running: 0 };
          const run = this.#entry.execute(
            // An attempt that starts after the abort (a retry once its backoff ends) belongs to a
            // caller already released and counted: it runs nothing and is not counted again.
            () => (signal.aborted ? Promise.reject(RELEASED) : trackRunning(call, attempt)),
            signal,
          );
          value = await raceAbort(run, signal, call, () => {
            this.#aborted++;
          });
        }
      }
    } catch (error) {
      return this.#onError(error, signal, started, options?.fallback) as Promise<T>;
    }
    let slow = false;
    if (value instanceof SlowResult) {
      slow = true;
      value = value.value;
    }
    const fallback = options?.fallback ?? this.#o.fallback;
    if (fallback !== undefined) rememberForFallback(fallback, value);
    if (started >= 0) this.#publishCall(slow ? 'failure' : 'success', started, undefined, slow);
    return value as T;
  }

  /**
   * Holds the breaker open (state `isolated`) until the returned handle is disposed or `reset()`
   * is called. Several handles may be held; the breaker closes when the last is disposed.
   * @throws {PerfClosedError} after `close()`.
   */
  isolate(): { dispose(): void } {
    if (this.#closed) throw new PerfClosedError(`Circuit breaker "${this.name}" is closed`);
    // cockatiel counts the handles; `reset()` rebuilds the policy, which releases them all at once
    // (a handle of an older policy then does nothing), so nothing here grows with the handles.
    const inner = this.#policy.isolate();
    const policy = this.#policy;
    return {
      dispose: () => {
        if (policy === this.#policy) inner.dispose();
      },
    };
  }

  /** Closes the breaker, releases every isolation handle and clears the failure history. */
  reset(): void {
    if (this.#closed) return;
    this.#rebuild(undefined);
    this.#transition('closed', 'reset');
  }

  /** A copy of the counters; `timeInStateMs` is measured on the breaker's clock. */
  stats(): ResilienceStats {
    const now = this.#clock.now();
    return {
      name: this.name,
      kind: this.#kind,
      state: this.#state,
      calls: this.#calls,
      successes: this.#successes,
      failures: this.#failures,
      ignoredFailures: this.#ignored,
      rejections: this.#rejections,
      bulkheadRejections: this.#bulkheadRejections,
      timeouts: this.#timeouts,
      slowCalls: this.#slowCalls,
      fallbacks: this.#fallbacks,
      retries: this.#retries,
      aborted: this.#aborted,
      stateSince: this.#stateSince,
      timeInStateMs: now - this.#stateSince,
      ...(this.#lastFailure === undefined ? {} : { lastFailure: { ...this.#lastFailure } }),
      transitions: this.#transitions,
    };
  }

  /**
   * A snapshot to persist and pass back as `initialState` (e.g. across serverless invocations).
   * It is a deep copy: later calls never change it (cockatiel #113 shares live arrays).
   */
  toJSON(): CircuitBreakerSnapshot {
    const raw = this.#policy.toJSON() as CircuitBreakerSnapshot['cockatiel'];
    const isolated = this.#state === 'isolated';
    const cockatiel = structuredClone(
      isolated ? { ...raw, ownState: { value: CockatielState.Closed } } : raw,
    );
    return {
      version: 1,
      name: this.name,
      kind: this.#kind,
      state: this.#state,
      openedAt: this.#state === 'half-open' ? 0 : this.#halfOpen.openedAt,
      cockatiel,
    };
  }

  /** Detaches from `sync` and refuses further calls (`PerfClosedError`). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lean = false;
    this.#sync?.detach();
    this.#sync = undefined;
  }

  /** Builds (or rebuilds) cockatiel's breaker policy and the wrap around it. */
  #build(initialState: unknown): void {
    const o = this.#o;
    let breaker: IBreaker;
    if (o.window === undefined) {
      breaker = new ConsecutiveBreaker(o.failureThreshold);
    } else if (o.window.type === 'count') {
      breaker = new CountBreaker({
        threshold: o.window.failureRateThreshold,
        size: o.window.size,
        ...(o.window.minimumCalls === undefined ? {} : { minimumNumberOfCalls: o.window.minimumCalls }),
      });
    } else {
      breaker = new SamplingBreaker({
        threshold: o.window.failureRateThreshold,
        duration: o.window.durationMs,
        ...(o.window.minimumRps === undefined ? {} : { minimumRps: o.window.minimumRps }),
      });
    }
    const policy = circuitBreaker(
      new Policy({ errorFilter: this.#breakerErrorFilter, resultFilter: this.#breakerResultFilter }),
      {
        halfOpenAfter: this.#halfOpen,
        breaker,
        ...(initialState === undefined ? {} : { initialState }),
      },
    );
    this.#policy = policy;
    // No disposable is kept per breaker (10,000 breakers, 10,000 of them): the listener of a
    // replaced policy (reset, remote update) or of a closed breaker does nothing.
    policy.onStateChange((s) => {
      if (policy === this.#policy && !this.#closed) this.#onCockatielState(s);
    });
    const outer: IPolicy<IDefaultPolicyContext>[] = [];
    if (this.#bulkhead) outer.push(this.#bulkhead);
    if (this.#retry) outer.push(this.#retry);
    this.#entry = outer.length === 0 ? policy : wrap(...outer, policy);
  }

  #rebuild(initialState: unknown): void {
    this.#quiet = true;
    try {
      this.#build(initialState);
    } finally {
      this.#quiet = false;
    }
  }

  #onCockatielState(s: CockatielState): void {
    if (this.#quiet) return;
    const to = stateFromIndex(s);
    let reason = STATE_REASONS[to];
    if (to === 'open' && this.#state === 'half-open') reason = 'probe failed';
    if (to === 'closed' && this.#state === 'isolated') reason = 'isolation released';
    this.#transition(to, reason);
  }

  #transition(to: CircuitState, reason: string, remote = false): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#stateSince = this.#clock.now();
    this.#transitions++;
    const ch = channels.breaker.state;
    if (ch.hasSubscribers) ch.publish({ name: this.name, from, to, reason });
    if (!remote && this.#sync !== undefined && (to === 'open' || to === 'closed')) this.#sync.publish(to);
  }

  /** Another instance reported a transition of a breaker with this name. */
  #applyRemote(state: SharedState): void {
    if (this.#closed) return;
    if (state === 'open' && this.#state === 'closed') {
      // cockatiel has no "open now" call: rebuild the policy from an open snapshot (its own API).
      const fresh = this.toJSON().cockatiel;
      this.#rebuild({
        ownState: { value: CockatielState.Open, openedAt: Date.now(), attemptNo: 1 },
        breakerState: fresh.breakerState,
      });
      this.#transition('open', 'remote', true);
    } else if (state === 'closed' && this.#state === 'open') {
      this.#rebuild(undefined);
      this.#transition('closed', 'remote', true);
    }
  }

  /** Refuses the call before entering cockatiel when open (fast path) or isolated. */
  #precheck(): void {
    if (this.#closed) throw new PerfClosedError(`Circuit breaker "${this.name}" is closed`);
    const s = this.#policy.state;
    if (s === CockatielState.Isolated) throw isolatedCircuit(this.name);
    if (s === CockatielState.Open && this.#halfOpen.isOpenPeriod()) {
      throw brokenCircuit(this.#openMessage, this.#lastError);
    }
  }

  /**
   * True when a call may wait: a half-open probe is running, the bulkhead queue is in use, or a
   * retry may back off (cockatiel's backoff sleep does not watch the caller's signal).
   */
  #mayWait(): boolean {
    return (
      this.#retry !== undefined ||
      this.#policy.state === CockatielState.HalfOpen ||
      (this.#bulkhead !== undefined && this.#bulkhead.executionSlots === 0)
    );
  }

  /** The function under cockatiel when a timeout or slow-call detection is configured. */
  async #runInner<T>(
    fn: (signal: AbortSignal) => Promise<T>,
    callerSignal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (callerSignal?.aborted) throw abortError(callerSignal);
    const slowMs = this.#o.slowCallMs;
    const started = slowMs === undefined ? 0 : this.#clock.now();
    const value =
      this.#timeout === undefined
        ? await fn(callerSignal ?? NEVER_ABORTED)
        : await this.#runWithTimeout(fn, callerSignal);
    if (slowMs !== undefined && this.#clock.now() - started >= slowMs) return new SlowResult(value);
    return value;
  }

  /** `signal` is the caller's only: cockatiel adds a listener to the parent signal per call. */
  async #runWithTimeout<T>(
    fn: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let inner: AbortSignal | undefined;
    try {
      return await this.#timeout!.execute((ctx) => {
        inner = ctx.signal;
        return fn(ctx.signal);
      }, signal);
    } catch (error) {
      if (!signal?.aborted && (isCockatielTaskCancelled(error) || inner?.aborted)) {
        const ms = this.#o.timeoutMs!;
        throw new PerfTimeoutError(`Circuit breaker "${this.name}": call timed out after ${ms} ms`, ms, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async #onError(
    error: unknown,
    signal: AbortSignal | undefined,
    started: number,
    callFallback: FallbackOption | undefined,
  ): Promise<unknown> {
    // Attempts that reached cockatiel's executor were counted by its filters; count the rest here.
    let outcome: BreakerCallOutcome;
    let reason: FallbackReason | undefined;
    let thrown: unknown = error;
    if (isCockatielIsolated(error) || isIsolatedCircuitError(error)) {
      outcome = 'rejected';
      reason = 'isolated';
      this.#rejections++;
      if (isCockatielIsolated(error)) thrown = isolatedCircuit(this.name);
    } else if (isCockatielBroken(error) || isBrokenCircuitError(error)) {
      outcome = 'rejected';
      reason = 'open';
      this.#rejections++;
      if (isCockatielBroken(error)) thrown = brokenCircuit(this.#openMessage, this.#lastError);
    } else if (isCockatielBulkheadRejected(error)) {
      outcome = 'bulkhead-rejected';
      reason = 'bulkhead';
      this.#bulkheadRejections++;
      const b = this.#o.bulkhead;
      thrown = new BulkheadRejectedError(
        `Circuit breaker "${this.name}": bulkhead full (${b?.limit} running, ${b?.queue} queued)`,
        { cause: error },
      );
    } else if (isPerfClosedError(error)) {
      throw error;
    } else if (isCockatielTaskCancelled(error) || (signal?.aborted && isAbortLike(error))) {
      // A caller that gave up while queued or waiting on a probe (cockatiel's TaskCancelledError
      // never passes the breaker's filter), or an abort the filter already counted.
      outcome = 'aborted';
      if (isCockatielTaskCancelled(error)) this.#aborted++;
      // What fn threw on abort is passed through; a cancelled wait becomes PerfAbortError.
      if (isCockatielTaskCancelled(error) && signal !== undefined) thrown = abortError(signal);
    } else if (isPerfTimeoutError(error)) {
      outcome = 'timeout';
      reason = 'timeout';
    } else if (this.#countsAgainst(error)) {
      outcome = 'failure';
      reason = 'failure';
    } else {
      outcome = 'ignored-failure';
    }
    if (started >= 0) this.#publishCall(outcome, started, thrown, false);
    // Failures and timeouts got their span in the breaker's error filter, once per attempt.
    if (outcome === 'rejected' || outcome === 'bulkhead-rejected') {
      recordCallSpan(this.name, outcome, this.#state, thrown);
    }
    const fallback =
      callFallback === undefined
        ? this.#o.fallback
        : fallbackCheck(callFallback, { owner: 'execute', field: 'fallback' });
    if (reason === undefined || fallback === undefined) throw thrown;
    const answer = await resolveFallback(fallback, thrown, { name: this.name, reason });
    if (answer === NO_FALLBACK) throw thrown;
    this.#fallbacks++;
    if (started >= 0) this.#publishCall('fallback', started, thrown, false);
    return answer;
  }

  /** Whether `error` counts against the breaker: timeouts always, aborts never, else `errorFilter`. */
  #countsAgainst(error: unknown): boolean {
    if (isPerfTimeoutError(error)) return true;
    if (isAbortLike(error)) return false;
    const filter = this.#o.errorFilter;
    if (filter === undefined) return true;
    try {
      return filter(error) === true;
    } catch {
      return true; // a throwing filter must not hide a failure
    }
  }

  get #openMessage(): string {
    this.#openMessageText ??= `Circuit breaker "${this.name}" is open: call rejected without running`;
    return this.#openMessageText;
  }

  #noteFailure(error: unknown): void {
    this.#failures++;
    this.#lastError = error;
    this.#lastFailure = { at: this.#clock.now(), message: messageOf(error) };
  }

  #publishCall(outcome: BreakerCallOutcome, started: number, error: unknown, slow: boolean): void {
    if (!callChannel.hasSubscribers) return;
    callChannel.publish({
      name: this.name,
      outcome,
      durationMs: this.#clock.now() - started,
      ...(slow ? { slow } : {}),
      ...(error === undefined ? {} : { error }),
    });
  }
}

/**
 * A promise that rejects with `error` one microtask later. `Promise.reject(error)` is born rejected
 * before the caller can attach a handler, so Node's unhandled-rejection tracking records it and
 * then un-records it (most of a rejection's cost, about 0.5 to 1 us here). Rejecting a microtask
 * later finds the caller's `await` or `.catch` already attached; a caller that never handles it
 * still gets Node's usual unhandled-rejection report.
 */
function rejectSoon<T>(error: unknown): Promise<T> {
  return new Promise<T>((_, reject) => {
    queueMicrotask(() => reject(error));
  });
}

/** How many attempts of one call are running `fn` right now. */
interface RunningAttempts {
  running: number;
}

/** Runs one attempt, counting it in `call.running` until it settles. */
function trackRunning<T>(call: RunningAttempts, attempt: () => Promise<T>): Promise<T> {
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
function raceAbort<T>(
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

/**
 * Creates a circuit breaker (see `CircuitBreakerOptions` for every option and its default).
 * @throws {PerfConfigError} naming the first invalid option.
 */
export function createCircuitBreaker(options?: CircuitBreakerOptions): ResilientCircuitBreaker {
  return new ResilientCircuitBreaker(options);
}

/**
 * Builds a breaker from options already checked by `checkBreakerOptions` (shared, never copied),
 * with its own name and sync. For `BreakerRegistry`; not part of the public surface.
 */
export function createKeyedBreaker(
  options: CheckedBreakerOptions,
  name: string,
  sync: BreakerSync | undefined,
): ResilientCircuitBreaker {
  keyedPreset = { options, name, sync };
  try {
    return new ResilientCircuitBreaker();
  } finally {
    keyedPreset = undefined;
  }
}
