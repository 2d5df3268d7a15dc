/**
 * The cockatiel policies under one breaker, outermost first: bulkhead → retry → breaker →
 * timeout → your function. Bulkhead rejections never reach the breaker, retries stop once the
 * breaker is open, and a timeout counts as a failure. The fallback is applied outside all of them
 * (see `call-outcome.ts`).
 */
import {
  type BulkheadPolicy,
  bulkhead,
  CircuitBreakerPolicy,
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  CountBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBreaker,
  type IDefaultPolicyContext,
  type IPolicy,
  type RetryPolicy,
  retry,
  SamplingBreaker,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { BreakerCore } from './breaker-core.js';
import { BreakerExecutor, type CockatielExecutor } from './breaker-executor.js';
import type { CheckedBreakerOptions } from './breaker-options.js';
import { countsAgainst } from './call-outcome.js';
import { isCockatielBroken, isCockatielIsolated } from './cockatiel-errors.js';

/** The policies around the breaker policy; built once per breaker, kept across rebuilds. */
export interface PolicyStack {
  readonly timeout: TimeoutPolicy | undefined;
  readonly retry: RetryPolicy | undefined;
  readonly bulkhead: BulkheadPolicy | undefined;
}

/** The timeout, retry and bulkhead `core` is configured with, or `undefined` for none. */
export function buildStack(core: BreakerCore): PolicyStack | undefined {
  const o = core.profile.options;
  if (o.timeoutMs === undefined && o.retry === undefined && o.bulkhead === undefined) return undefined;
  const timeoutPolicy =
    o.timeoutMs === undefined
      ? undefined
      : timeout(o.timeoutMs, {
          strategy:
            o.timeoutStrategy === 'cooperative' ? TimeoutStrategy.Cooperative : TimeoutStrategy.Aggressive,
          abortOnReturn: false,
        }).dangerouslyUnref();
  let retryPolicy: RetryPolicy | undefined;
  if (o.retry !== undefined) {
    const retryable = (error: unknown) =>
      countsAgainst(core, error) &&
      !isCockatielBroken(error) &&
      !isCockatielIsolated(error) &&
      core.policy.state !== CockatielState.Open &&
      core.policy.state !== CockatielState.Isolated;
    retryPolicy = retry(handleWhen(retryable), {
      maxAttempts: o.retry.maxAttempts,
      backoff: new ExponentialBackoff({ initialDelay: o.retry.initialDelayMs, maxDelay: o.retry.maxDelayMs }),
    }).dangerouslyUnref();
    retryPolicy.onRetry(() => {
      core.incidents.retries++;
    });
  }
  const bulkheadPolicy = o.bulkhead === undefined ? undefined : bulkhead(o.bulkhead.limit, o.bulkhead.queue);
  return { timeout: timeoutPolicy, retry: retryPolicy, bulkhead: bulkheadPolicy };
}

/** cockatiel's failure strategy for the configured window. */
function failureStrategy(o: CheckedBreakerOptions): IBreaker {
  if (o.window === undefined) return new ConsecutiveBreaker(o.failureThreshold);
  if (o.window.type === 'count') {
    return new CountBreaker({
      threshold: o.window.failureRateThreshold,
      size: o.window.size,
      ...(o.window.minimumCalls === undefined ? {} : { minimumNumberOfCalls: o.window.minimumCalls }),
    });
  }
  return new SamplingBreaker({
    threshold: o.window.failureRateThreshold,
    duration: o.window.durationMs,
    ...(o.window.minimumRps === undefined ? {} : { minimumRps: o.window.minimumRps }),
  });
}

/** Builds (or rebuilds, from cockatiel's `initialState`) the breaker policy and the wrap around it. */
export function buildPolicy(core: BreakerCore, initialState: unknown): void {
  const executor = new BreakerExecutor(core);
  const policy = new CircuitBreakerPolicy(
    {
      halfOpenAfter: core.halfOpen,
      breaker: failureStrategy(core.profile.options),
      ...(initialState === undefined ? {} : { initialState }),
    },
    executor as unknown as CockatielExecutor,
  );
  core.policy = policy;
  core.executor = executor;
  // No disposable is kept per breaker: the listener of a replaced policy finds its executor stale.
  policy.onStateChange(executor.onStateChange.bind(executor));
  const stack = core.stack;
  const outer: IPolicy<IDefaultPolicyContext>[] = [];
  if (stack?.bulkhead) outer.push(stack.bulkhead);
  if (stack?.retry) outer.push(stack.retry);
  core.entry = outer.length === 0 ? policy : wrap(...outer, policy);
}

/** Rebuilds the policy without re-publishing the new policy's own events. */
export function rebuildPolicy(core: BreakerCore, initialState: unknown): void {
  core.quiet = true;
  try {
    buildPolicy(core, initialState);
  } finally {
    core.quiet = false;
  }
}
