/**
 * cockatiel's executor for one breaker policy: the step that runs an attempt and tells the policy
 * whether it failed. cockatiel's own `ExecuteWrapper` does that through an error filter and a
 * result filter (two closures per breaker) and two event emitters this wrapper never listens to;
 * this one counts the outcome itself (see `call-outcome.ts`) and costs one small object.
 *
 * It is handed to cockatiel's public `CircuitBreakerPolicy` constructor, which uses only `invoke`,
 * `onSuccess` and `onFailure` (cockatiel is pinned `~3.2.1`; `test/cockatiel-executor.test.ts`
 * fails if an upgrade starts using more).
 */
import type { CircuitBreakerPolicy, CircuitState as CockatielState } from 'cockatiel';
import type { BreakerCore } from './breaker-core.js';
import { onPolicyState } from './breaker-transitions.js';
import { countAttemptError, countAttemptResult } from './call-outcome.js';

/** What `invoke` resolves with, in cockatiel's executor protocol. */
type AttemptResult = { success: unknown } | { value: unknown } | { error: unknown };

/** The executor type `CircuitBreakerPolicy`'s constructor names. */
export type CockatielExecutor = ConstructorParameters<typeof CircuitBreakerPolicy>[1];

const NO_LISTENER = { dispose: () => undefined };
const noEvent = () => NO_LISTENER;

export class BreakerExecutor {
  readonly core: BreakerCore;

  constructor(core: BreakerCore) {
    this.core = core;
  }

  /**
   * Runs one attempt; resolves `{ success }`, or `{ value }`/`{ error }` for a counted failure.
   * `fn` gets the signal of cockatiel's context (what the call passed to `policy.execute`), so the
   * lean path hands cockatiel the caller's function itself, with no adapter closure per call; the
   * other paths pass closures that ignore it.
   */
  async invoke(
    fn: (signal: AbortSignal) => unknown,
    context: { signal: AbortSignal },
  ): Promise<AttemptResult> {
    let value: unknown;
    try {
      value = await fn(context.signal);
    } catch (error) {
      if (!countAttemptError(this.core, error)) throw error;
      return { error };
    }
    return countAttemptResult(this.core, value) ? { value } : { success: value };
  }

  /** cockatiel's state-change listener for this executor's policy (bound once per policy). */
  onStateChange(s: CockatielState): void {
    const core = this.core;
    // A replaced policy (reset, remote update) or a closed breaker reports nothing.
    if (core.executor !== this || core.closed || core.quiet) return;
    onPolicyState(core, s);
  }
}

// On the prototype: cockatiel copies them once per policy; nothing subscribes.
Object.defineProperties(BreakerExecutor.prototype, {
  onSuccess: { value: noEvent },
  onFailure: { value: noEvent },
});
