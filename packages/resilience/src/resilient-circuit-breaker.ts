/**
 * The circuit breaker: cockatiel's `CircuitBreakerPolicy` (with its Consecutive, Count or Sampling
 * breaker, timeout, retry with backoff and bulkhead, composed with `wrap`) plus what cockatiel
 * lacks: slow calls, named states, cheap counters, events, spans, fallbacks, snapshots and sharing
 * across instances, and guards against three cockatiel 3.2.1 defects (#103, #112, #113).
 *
 * This class is the public face; each part of the job has its own file: `policy-stack.ts` (the
 * cockatiel policies), `breaker-executor.ts` (runs attempts, counts them), `execute-paths.ts`,
 * `call-outcome.ts` (classification and fallback), `breaker-counters.ts` (stats),
 * `breaker-transitions.ts`, `abort-helpers.ts` and `keyed-preset.ts`.
 */
import { type CircuitBreaker, type CircuitState, PerfClosedError, PerfConfigError } from '@perf/core';
import { CircuitState as CockatielState } from 'cockatiel';
import { BreakerCore } from './breaker-core.js';
import type { ResilienceStats } from './breaker-counters.js';
import {
  type CheckedBreakerOptions,
  type CircuitBreakerOptions,
  checkBreakerOptions,
} from './breaker-options.js';
import { profileOf } from './breaker-profile.js';
import { type CircuitBreakerSnapshot, readSnapshot } from './breaker-snapshot.js';
import type { BreakerSync, SharedState } from './breaker-sync.js';
import { transition } from './breaker-transitions.js';
import type { ExecuteOptions } from './execute-options.js';
import { executeCall } from './execute-paths.js';
import { ClockHalfOpenBackoff } from './half-open-backoff.js';
import { takeKeyedPreset, withKeyedPreset } from './keyed-preset.js';
import { buildPolicy, buildStack, rebuildPolicy } from './policy-stack.js';

export type { ResilienceStats } from './breaker-counters.js';
export type { ExecuteOptions } from './execute-options.js';

const OWNER = 'createCircuitBreaker';

function badArgument(field: string, reason: string, value: unknown): PerfConfigError {
  return new PerfConfigError(field, reason, value, { owner: 'CircuitBreaker.execute' });
}

/**
 * A named circuit breaker on cockatiel. Build it with `createCircuitBreaker(options)`.
 * Implements @perf/core's `CircuitBreaker`, so @perf/cache (or anything else) can take it.
 */
export class ResilientCircuitBreaker implements CircuitBreaker {
  readonly name: string;
  readonly #core: BreakerCore;

  /** @throws {PerfConfigError} naming the first invalid option. */
  constructor(options?: CircuitBreakerOptions) {
    const preset = takeKeyedPreset();
    const o = preset === undefined ? checkBreakerOptions(options, OWNER) : preset.options;
    const profile = profileOf(o);
    this.name = preset === undefined ? o.name : preset.name;
    const snapshot =
      o.initialState === undefined ? undefined : readSnapshot(o.initialState, profile.kind, OWNER);
    const core = new BreakerCore(
      this.name,
      profile,
      new ClockHalfOpenBackoff(o.clock, profile.halfOpenSchedule),
    );
    this.#core = core;
    core.stack = buildStack(core);
    if (snapshot === undefined) {
      buildPolicy(core, undefined);
    } else {
      core.halfOpen.beginHydration(snapshot.openedAt);
      try {
        buildPolicy(core, snapshot.cockatiel);
      } finally {
        core.halfOpen.endHydration();
      }
      core.state =
        snapshot.state === 'half-open' ? 'open' : snapshot.state === 'isolated' ? 'closed' : snapshot.state;
      if (snapshot.state === 'isolated') this.isolate();
    }
    const sync = preset === undefined ? o.sync : preset.sync;
    if (sync !== undefined) core.sync = sync.attach(this.name, (state) => this.#applyRemote(state));
  }

  /** `closed`, `open`, `half-open` (a probe is running) or `isolated`. */
  get state(): CircuitState {
    return this.#core.state;
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
    return executeCall(this.#core, fn, options);
  }

  /**
   * Holds the breaker open (state `isolated`) until the returned handle is disposed or `reset()`
   * is called. Several handles may be held; the breaker closes when the last is disposed.
   * @throws {PerfClosedError} after `close()`.
   */
  isolate(): { dispose(): void } {
    const core = this.#core;
    if (core.closed) throw new PerfClosedError(`Circuit breaker "${this.name}" is closed`);
    // cockatiel counts the handles; `reset()` rebuilds the policy, which releases them all at once
    // (a handle of an older policy then does nothing), so nothing here grows with the handles.
    const policy = core.policy;
    const inner = policy.isolate();
    return {
      dispose: () => {
        if (policy === core.policy) inner.dispose();
      },
    };
  }

  /** Closes the breaker, releases every isolation handle and clears the failure history. */
  reset(): void {
    const core = this.#core;
    if (core.closed) return;
    rebuildPolicy(core, undefined);
    transition(core, 'closed', 'reset');
  }

  /** A copy of the counters; `timeInStateMs` is measured on the breaker's clock. */
  stats(): ResilienceStats {
    const core = this.#core;
    return core.toStats(this.name, core.profile.kind, core.profile.clock.now());
  }

  /**
   * A snapshot to persist and pass back as `initialState` (e.g. across serverless invocations).
   * It is a deep copy: later calls never change it (cockatiel #113 shares live arrays).
   */
  toJSON(): CircuitBreakerSnapshot {
    const core = this.#core;
    const raw = core.policy.toJSON() as CircuitBreakerSnapshot['cockatiel'];
    const isolated = core.state === 'isolated';
    const cockatiel = structuredClone(
      isolated ? { ...raw, ownState: { value: CockatielState.Closed } } : raw,
    );
    return {
      version: 1,
      name: this.name,
      kind: core.profile.kind,
      state: core.state,
      openedAt: core.state === 'half-open' ? 0 : core.halfOpen.openedAt,
      cockatiel,
    };
  }

  /** Detaches from `sync` and refuses further calls (`PerfClosedError`). Idempotent. */
  close(): void {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    core.sync?.detach();
    core.sync = undefined;
  }

  /** Another instance reported a transition of a breaker with this name. */
  #applyRemote(state: SharedState): void {
    const core = this.#core;
    if (core.closed) return;
    if (state === 'open' && core.state === 'closed') {
      // cockatiel has no "open now" call: rebuild the policy from an open snapshot (its own API).
      const fresh = this.toJSON().cockatiel;
      rebuildPolicy(core, {
        ownState: { value: CockatielState.Open, openedAt: Date.now(), attemptNo: 1 },
        breakerState: fresh.breakerState,
      });
      transition(core, 'open', 'remote', true);
    } else if (state === 'closed' && core.state === 'open') {
      rebuildPolicy(core, undefined);
      transition(core, 'closed', 'remote', true);
    }
  }
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
  return withKeyedPreset({ options, name, sync }, () => new ResilientCircuitBreaker());
}
