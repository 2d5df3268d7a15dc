/** The breaker used only through @perf/core's `CircuitBreaker` interface, as @perf/cache does. */
import { type CircuitBreaker, isBrokenCircuitError, isIsolatedCircuitError, ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../src/index.js';

async function guardedRead(breaker: CircuitBreaker, read: () => Promise<string>): Promise<string> {
  try {
    return await breaker.execute(() => read());
  } catch (error) {
    if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) return 'skipped';
    throw error;
  }
}

describe('as a @perf/core CircuitBreaker', () => {
  it('supports what a consumer such as @perf/cache needs', async () => {
    const clock = new ManualClock();
    const breaker: CircuitBreaker = createCircuitBreaker({
      name: 'l3',
      failureThreshold: 2,
      halfOpenAfterMs: 100,
      clock,
    });
    expect(breaker.name).toBe('l3');
    expect(await guardedRead(breaker, async () => 'value')).toBe('value');
    for (let i = 0; i < 2; i++) {
      await expect(
        guardedRead(breaker, async () => {
          throw new Error('redis down');
        }),
      ).rejects.toThrow('redis down');
    }
    expect(breaker.state).toBe('open');
    expect(await guardedRead(breaker, async () => 'value')).toBe('skipped');
    const s = breaker.stats();
    expect(s).toMatchObject({
      name: 'l3',
      state: 'open',
      calls: 4,
      successes: 1,
      failures: 2,
      rejections: 1,
    });
    expect(s.timeInStateMs).toBe(0);
    const handle = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    handle.dispose();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(await guardedRead(breaker, async () => 'back')).toBe('back');
  });
});
