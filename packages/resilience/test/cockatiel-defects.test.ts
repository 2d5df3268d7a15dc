/**
 * cockatiel 3.2.1 defects the wrapper guards against, each with its own test.
 * The "still present" tests document the upstream behaviour: when one starts failing after a
 * cockatiel upgrade, the defect is fixed upstream and the guard can be reviewed.
 */
import { IsolatedCircuitError, isPerfAbortError, ManualClock } from '@perf/core';
import * as cockatiel from 'cockatiel';
import { describe, expect, it } from 'vitest';
import {
  isCockatielBroken,
  isCockatielBulkheadRejected,
  isCockatielIsolated,
  isCockatielTaskCancelled,
} from '../src/cockatiel-errors.js';
import { createCircuitBreaker } from '../src/index.js';
import { boom, deferred, settle, tick } from './support/helpers.js';

describe('#103: isIsolatedCircuitError / isTaskCancelledError check the wrong marker', () => {
  const isolated = new cockatiel.IsolatedCircuitError();
  const cancelled = new cockatiel.TaskCancelledError();
  const bulkhead = new cockatiel.BulkheadRejectedError(1, 0);
  const broken = new cockatiel.BrokenCircuitError();

  it('still present in cockatiel 3.2.1', () => {
    expect(cockatiel.isIsolatedCircuitError(isolated)).toBe(false);
    expect(cockatiel.isTaskCancelledError(cancelled)).toBe(false);
    expect(cockatiel.isIsolatedCircuitError(bulkhead)).toBe(true);
    expect(cockatiel.isTaskCancelledError(bulkhead)).toBe(true);
  });

  it('isCockatielIsolated answers for isolation only', () => {
    expect(isCockatielIsolated(isolated)).toBe(true);
    expect(isCockatielIsolated(bulkhead)).toBe(false);
    expect(isCockatielIsolated(broken)).toBe(false);
    expect(isCockatielIsolated(cancelled)).toBe(false);
    expect(isCockatielIsolated(null)).toBe(false);
  });

  it('isCockatielTaskCancelled answers for cancellation only', () => {
    expect(isCockatielTaskCancelled(cancelled)).toBe(true);
    expect(isCockatielTaskCancelled(bulkhead)).toBe(false);
    expect(isCockatielTaskCancelled(isolated)).toBe(false);
    expect(isCockatielTaskCancelled('TaskCancelledError')).toBe(false);
  });

  it('isCockatielBroken excludes isolation (IsolatedCircuitError extends BrokenCircuitError)', () => {
    expect(isCockatielBroken(broken)).toBe(true);
    expect(isCockatielBroken(isolated)).toBe(false);
    expect(isCockatielBroken(bulkhead)).toBe(false);
  });

  it('isCockatielBulkheadRejected answers for bulkhead rejections only', () => {
    expect(isCockatielBulkheadRejected(bulkhead)).toBe(true);
    expect(isCockatielBulkheadRejected(isolated)).toBe(false);
    expect(isCockatielBulkheadRejected(cancelled)).toBe(false);
  });

  it('the breaker maps isolation to IsolatedCircuitError, never to a bulkhead or broken error', async () => {
    const breaker = createCircuitBreaker({ bulkhead: { limit: 1 }, clock: new ManualClock() });
    breaker.isolate();
    const { error } = await settle(breaker.execute(async () => 1));
    expect(error).toBeInstanceOf(IsolatedCircuitError);
    expect(breaker.stats()).toMatchObject({ rejections: 1, bulkheadRejections: 0 });
  });
});

describe('#112: half-open waiters lose their AbortSignal', () => {
  async function halfOpenWithProbe() {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 100, clock });
    await settle(breaker.execute(boom()));
    clock.advance(100);
    const probe = deferred<string>();
    const probeCall = breaker.execute(() => probe.promise);
    expect(breaker.state).toBe('half-open');
    return { breaker, probe, probeCall };
  }

  it('still present in cockatiel 3.2.1: the re-run waiter gets a signal that never aborts', async () => {
    let now = 0;
    const raw = cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: {
        next: () => ({
          get duration() {
            return now >= 1 ? -Infinity : Infinity;
          },
          next() {
            return this;
          },
        }),
      },
      breaker: new cockatiel.ConsecutiveBreaker(1),
    });
    await settle(raw.execute(() => Promise.reject(new Error('x'))));
    now = 1;
    const probe = deferred<string>();
    const probeCall = raw.execute(() => probe.promise);
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const waiter = raw.execute(({ signal }) => {
      seen = signal;
      return Promise.resolve('w');
    }, controller.signal);
    probe.resolve('p');
    await probeCall;
    await waiter;
    expect(seen).toBeDefined();
    expect(seen).not.toBe(controller.signal);
  });

  it("a waiter run after the probe gets the caller's signal", async () => {
    const { breaker, probe, probeCall } = await halfOpenWithProbe();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const waiter = breaker.execute(
      async (signal) => {
        seen = signal;
        return 'w';
      },
      { signal: controller.signal },
    );
    probe.resolve('p');
    await probeCall;
    expect(await waiter).toBe('w');
    expect(seen).toBe(controller.signal);
  });

  it('a waiter that aborts while the probe runs is released at once and never runs', async () => {
    const { breaker, probe, probeCall } = await halfOpenWithProbe();
    const controller = new AbortController();
    let ran = false;
    const waiter = settle(
      breaker.execute(
        async () => {
          ran = true;
          return 'w';
        },
        { signal: controller.signal },
      ),
    );
    await tick();
    controller.abort(new Error('caller gave up'));
    const { error } = await waiter;
    expect(isPerfAbortError(error)).toBe(true);
    expect((error as Error).cause).toEqual(new Error('caller gave up'));
    probe.resolve('p');
    expect(await probeCall).toBe('p');
    await tick();
    expect(ran).toBe(false);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().aborted).toBeGreaterThanOrEqual(1);
  });
});

describe('#113: toJSON() of Count/Sampling breakers shares live arrays', () => {
  it('still present in cockatiel 3.2.1', async () => {
    const raw = cockatiel.circuitBreaker(cockatiel.handleAll, {
      halfOpenAfter: 1000,
      breaker: new cockatiel.CountBreaker({ threshold: 0.5, size: 4 }),
    });
    const before = raw.toJSON() as { breakerState: { samples: unknown[] } };
    await raw.execute(() => 1);
    expect(before.breakerState.samples[0]).toBe(true); // the "snapshot" changed after the fact
  });

  it('a count-window snapshot never changes after it was taken', async () => {
    const breaker = createCircuitBreaker({
      window: { type: 'count', size: 4, failureRateThreshold: 0.5 },
      clock: new ManualClock(),
    });
    const snapshot = breaker.toJSON();
    const copy = structuredClone(snapshot);
    await breaker.execute(async () => 1);
    await settle(breaker.execute(boom()));
    expect(snapshot).toEqual(copy);
  });

  it('a sampling-window snapshot never changes after it was taken', async () => {
    const breaker = createCircuitBreaker({
      window: { type: 'sampling', durationMs: 5000, failureRateThreshold: 0.5 },
      clock: new ManualClock(),
    });
    await breaker.execute(async () => 1);
    const snapshot = breaker.toJSON();
    const copy = structuredClone(snapshot);
    await settle(breaker.execute(boom()));
    await breaker.execute(async () => 1);
    expect(snapshot).toEqual(copy);
  });

  it('two breakers hydrated from one snapshot do not share state', async () => {
    const window = { type: 'count', size: 4, failureRateThreshold: 0.5 } as const;
    const source = createCircuitBreaker({ window, clock: new ManualClock() });
    await source.execute(async () => 1);
    const snapshot = source.toJSON();
    const copy = structuredClone(snapshot);
    const a = createCircuitBreaker({ window, initialState: snapshot, clock: new ManualClock() });
    const b = createCircuitBreaker({ window, initialState: snapshot, clock: new ManualClock() });
    for (let i = 0; i < 4; i++) await settle(a.execute(boom()));
    expect(a.state).toBe('open');
    expect(b.state).toBe('closed');
    expect(b.toJSON().cockatiel).toEqual(copy.cockatiel);
    expect(snapshot).toEqual(copy);
  });
});
