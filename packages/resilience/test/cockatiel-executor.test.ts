/**
 * The breaker hands cockatiel's public `CircuitBreakerPolicy` constructor its own executor (see
 * `src/breaker-executor.ts`). This pins what that relies on: the policy touches only `invoke`,
 * `onSuccess` and `onFailure` of its executor, and reads `invoke`'s `{ success } | { error } |
 * { value }` results. If a cockatiel upgrade starts using more, this fails before anything else.
 */
import { CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker } from 'cockatiel';
import { describe, expect, it } from 'vitest';

type Result = { success: unknown } | { error: unknown } | { value: unknown };

function recordingExecutor(outcome: (value: unknown) => Result) {
  const touched = new Set<string>();
  const target = {
    async invoke(fn: (context: unknown) => unknown, context: unknown): Promise<Result> {
      try {
        return outcome(await fn(context));
      } catch (error) {
        return { error };
      }
    },
    onSuccess: () => ({ dispose() {} }),
    onFailure: () => ({ dispose() {} }),
  };
  const executor = new Proxy(target, {
    get(t, key, receiver) {
      touched.add(String(key));
      return Reflect.get(t, key, receiver);
    },
  });
  return { executor, touched };
}

describe('cockatiel CircuitBreakerPolicy executor contract', () => {
  it('uses only invoke, onSuccess and onFailure, through closed, open, half-open and isolated', async () => {
    const { executor, touched } = recordingExecutor((value) => ({ success: value }));
    const policy = new CircuitBreakerPolicy(
      { halfOpenAfter: 1, breaker: new ConsecutiveBreaker(1) },
      executor as unknown as ConstructorParameters<typeof CircuitBreakerPolicy>[1],
    );
    expect(await policy.execute(async () => 1)).toBe(1);
    await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(policy.state).toBe(CircuitState.Open);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await policy.execute(async () => 2)).toBe(2); // the half-open probe closes it
    expect(policy.state).toBe(CircuitState.Closed);
    policy.isolate().dispose();
    expect([...touched].sort()).toEqual(['invoke', 'onFailure', 'onSuccess']);
  });

  it('treats { value } as a handled failure that still returns the value', async () => {
    const { executor } = recordingExecutor((value) => ({ value }));
    const policy = new CircuitBreakerPolicy(
      { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(1) },
      executor as unknown as ConstructorParameters<typeof CircuitBreakerPolicy>[1],
    );
    expect(await policy.execute(async () => 'slow')).toBe('slow');
    expect(policy.state).toBe(CircuitState.Open);
  });
});
