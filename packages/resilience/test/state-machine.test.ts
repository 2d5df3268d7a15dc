import { BrokenCircuitError, IsolatedCircuitError, isBrokenCircuitError, ManualClock } from '@perf/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCircuitBreaker } from '../src/index.js';
import { boom, deferred, ok, recordEvents, settle, tick } from './support/helpers.js';

async function fail(breaker: ReturnType<typeof createCircuitBreaker>, times: number) {
  for (let i = 0; i < times; i++) await settle(breaker.execute(boom()));
}

describe('state machine on a ManualClock', () => {
  it('opens after failureThreshold consecutive failures and rejects without calling fn', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ name: 'sm', failureThreshold: 3, halfOpenAfterMs: 1000, clock });
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    const fn = vi.fn(ok(1));
    const { error } = await settle(breaker.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect((error as Error).message).toContain('"sm"');
    expect((error as Error).cause).toBeInstanceOf(Error);
    const s = breaker.stats();
    expect(s).toMatchObject({
      calls: 4,
      failures: 3,
      rejections: 1,
      successes: 0,
      transitions: 1,
      state: 'open',
    });
    expect(s.lastFailure).toEqual({ at: clock.now(), message: 'boom' });
  });

  it('a success resets the consecutive count', async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2, clock: new ManualClock() });
    await fail(breaker, 1);
    await breaker.execute(ok(1));
    await fail(breaker, 1);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('stays open until halfOpenAfterMs on the injected clock, then a probe success closes it', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 5000, clock });
    await fail(breaker, 1);
    clock.advance(4999);
    expect(isBrokenCircuitError((await settle(breaker.execute(ok(1)))).error)).toBe(true);
    clock.advance(1);
    const probe = deferred<number>();
    const running = breaker.execute(() => probe.promise);
    expect(breaker.state).toBe('half-open');
    probe.resolve(7);
    expect(await running).toBe(7);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().transitions).toBe(3);
  });

  it('a failed probe re-opens it for another full period', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 1000, clock });
    await fail(breaker, 1);
    clock.advance(1000);
    await settle(breaker.execute(boom('probe')));
    expect(breaker.state).toBe('open');
    clock.advance(999);
    expect(isBrokenCircuitError((await settle(breaker.execute(ok(1)))).error)).toBe(true);
    clock.advance(1);
    expect(await breaker.execute(ok(2))).toBe(2);
    expect(breaker.state).toBe('closed');
  });

  it('halfOpenBackoff doubles the open period after each failed probe, up to maxDelayMs', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      halfOpenAfterMs: 1000,
      halfOpenBackoff: { maxDelayMs: 3000 },
      clock,
    });
    await fail(breaker, 1);
    const periods: number[] = [];
    for (let round = 0; round < 3; round++) {
      let waited = 0;
      while (isBrokenCircuitError((await settle(breaker.execute(ok(0)))).error)) {
        clock.advance(250);
        waited += 250;
      }
      // the probe ran (and succeeded); re-open by failing once more
      periods.push(waited);
      await fail(breaker, 1);
    }
    expect(periods).toEqual([1000, 1000, 1000]);
    // failed probes grow the period: 1000 -> 2000 -> 3000 (capped)
    clock.advance(1000);
    await settle(breaker.execute(boom('probe 1')));
    let waited = 0;
    while (isBrokenCircuitError((await settle(breaker.execute(boom('probe 2')))).error)) {
      clock.advance(250);
      waited += 250;
    }
    expect(waited).toBe(2000);
    waited = 0;
    while (isBrokenCircuitError((await settle(breaker.execute(ok(1)))).error)) {
      clock.advance(250);
      waited += 250;
    }
    expect(waited).toBe(3000);
    expect(breaker.state).toBe('closed');
  });

  it('half-open lets one probe through; waiters follow its result', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 100, clock });
    await fail(breaker, 1);
    clock.advance(100);
    const probe = deferred<string>();
    const calls: string[] = [];
    const first = breaker.execute(() => {
      calls.push('probe');
      return probe.promise;
    });
    const waiter = breaker.execute(async () => {
      calls.push('waiter');
      return 'w';
    });
    await tick();
    expect(calls).toEqual(['probe']);
    probe.reject(new Error('still down'));
    await settle(first);
    const { error } = await settle(waiter);
    expect(calls).toEqual(['probe']);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(breaker.state).toBe('open');
  });

  it('isolate() holds it isolated until every handle is disposed; reset() releases all', async () => {
    const breaker = createCircuitBreaker({ clock: new ManualClock() });
    const a = breaker.isolate();
    const b = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    const fn = vi.fn(ok(1));
    expect((await settle(breaker.execute(fn))).error).toBeInstanceOf(IsolatedCircuitError);
    expect(fn).not.toHaveBeenCalled();
    a.dispose();
    a.dispose();
    expect(breaker.state).toBe('isolated');
    b.dispose();
    expect(breaker.state).toBe('closed');
    breaker.isolate();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(await breaker.execute(ok(3))).toBe(3);
    expect(breaker.stats().rejections).toBe(1);
  });

  it('reset() closes an open breaker and forgets its failure history', async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2, clock: new ManualClock() });
    await fail(breaker, 2);
    expect(breaker.state).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('closed');
  });

  it('reset() during a probe: the probe that fails afterwards does not re-open the new circuit', async () => {
    const clock = new ManualClock();
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({
        name: 'reset-probe',
        failureThreshold: 1,
        halfOpenAfterMs: 10,
        clock,
      });
      await fail(breaker, 1);
      clock.advance(10);
      const probe = deferred<number>();
      const running = settle(breaker.execute(() => probe.promise));
      await tick();
      expect(breaker.state).toBe('half-open');
      breaker.reset();
      probe.reject(new Error('late probe failure'));
      await running;
      expect(breaker.state).toBe('closed');
      expect(await breaker.execute(ok(7))).toBe(7);
      expect(
        rec
          .of('perf:breaker:state')
          .filter((e) => e.name === 'reset-probe')
          .map((e) => e.to),
      ).toEqual(['open', 'half-open', 'closed']);
    } finally {
      rec.stop();
    }
  });

  it('close() during a call: the failure that lands afterwards publishes no state change', async () => {
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({
        name: 'close-mid',
        failureThreshold: 1,
        clock: new ManualClock(),
      });
      const call = deferred<number>();
      const running = settle(breaker.execute(() => call.promise));
      await tick();
      breaker.close();
      call.reject(new Error('after close'));
      await running;
      expect(rec.of('perf:breaker:state').filter((e) => e.name === 'close-mid')).toEqual([]);
    } finally {
      rec.stop();
    }
  });

  it('publishes every state change with a reason, and stats time the current state', async () => {
    const clock = new ManualClock();
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({ name: 'ev', failureThreshold: 1, halfOpenAfterMs: 10, clock });
      await fail(breaker, 1);
      clock.advance(10);
      await settle(breaker.execute(boom()));
      clock.advance(10);
      await breaker.execute(ok(1));
      breaker.isolate().dispose();
      breaker.isolate();
      breaker.reset();
      clock.advance(25);
      expect(breaker.stats().timeInStateMs).toBe(25);
      expect(rec.of('perf:breaker:state').filter((e) => e.name === 'ev')).toEqual([
        { name: 'ev', from: 'closed', to: 'open', reason: 'failures' },
        { name: 'ev', from: 'open', to: 'half-open', reason: 'half-open timer' },
        { name: 'ev', from: 'half-open', to: 'open', reason: 'probe failed' },
        { name: 'ev', from: 'open', to: 'half-open', reason: 'half-open timer' },
        { name: 'ev', from: 'half-open', to: 'closed', reason: 'probe succeeded' },
        { name: 'ev', from: 'closed', to: 'isolated', reason: 'isolate' },
        { name: 'ev', from: 'isolated', to: 'closed', reason: 'isolation released' },
        { name: 'ev', from: 'closed', to: 'isolated', reason: 'isolate' },
        { name: 'ev', from: 'isolated', to: 'closed', reason: 'reset' },
      ]);
    } finally {
      rec.stop();
    }
  });
});

describe('windowed failure policies', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('count window opens above the failure rate once minimumCalls were seen', async () => {
    const breaker = createCircuitBreaker({
      window: { type: 'count', size: 10, failureRateThreshold: 0.5, minimumCalls: 4 },
      clock: new ManualClock(),
    });
    await fail(breaker, 3); // 3 of 3, under minimumCalls
    expect(breaker.state).toBe('closed');
    await breaker.execute(ok(1));
    await breaker.execute(ok(1));
    await fail(breaker, 1); // 4 of 6 = 67 % > 50 %
    expect(breaker.state).toBe('open');
    expect(breaker.stats().kind).toBe('count');
  });

  it('count window stays closed at or under the rate', async () => {
    const breaker = createCircuitBreaker({
      window: { type: 'count', size: 4, failureRateThreshold: 0.5 },
      clock: new ManualClock(),
    });
    for (let i = 0; i < 20; i++) {
      await breaker.execute(ok(1));
      await settle(breaker.execute(boom()));
    }
    expect(breaker.state).toBe('closed');
  });

  it('sampling window counts calls in a sliding time window (cockatiel reads Date.now: faked here)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    const breaker = createCircuitBreaker({
      window: { type: 'sampling', durationMs: 5000, failureRateThreshold: 0.5, minimumRps: 1 },
      clock: new ManualClock(),
    });
    // a 5 s window (five 1 s buckets) needs >= 5 calls before its rate is trusted
    await fail(breaker, 4);
    expect(breaker.state).toBe('closed'); // too few calls
    for (let step = 0; step < 5; step++) {
      vi.advanceTimersByTime(1000); // each call in a new second rotates one bucket out
      await breaker.execute(ok(1));
      await breaker.execute(ok(1));
    }
    // the four early failures slid out of the window: 10 successes remain
    await fail(breaker, 9);
    expect(breaker.state).toBe('closed'); // 9 of 19
    await fail(breaker, 2);
    expect(breaker.state).toBe('open'); // 11 of 21
    expect(breaker.stats().kind).toBe('sampling');
  });
});
