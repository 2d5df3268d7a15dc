import { isBrokenCircuitError, isPerfConfigError, ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerSnapshot, createCircuitBreaker } from '../src/index.js';
import { boom, ok, settle } from './support/helpers.js';

/** What a serverless function would do: write the snapshot as JSON and read it back later. */
const throughJson = (s: CircuitBreakerSnapshot) => JSON.parse(JSON.stringify(s)) as CircuitBreakerSnapshot;

describe('toJSON() / initialState round trip', () => {
  it('an open breaker comes back open and probes when its original open period ends', async () => {
    const clock = new ManualClock();
    const first = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 1000, clock });
    await settle(first.execute(boom()));
    clock.advance(400);
    const snapshot = throughJson(first.toJSON());
    expect(snapshot).toMatchObject({ version: 1, kind: 'consecutive', state: 'open' });

    const second = createCircuitBreaker({
      failureThreshold: 1,
      halfOpenAfterMs: 1000,
      clock,
      initialState: snapshot,
    });
    expect(second.state).toBe('open');
    expect(isBrokenCircuitError((await settle(second.execute(ok(1)))).error)).toBe(true);
    clock.advance(600);
    expect(await second.execute(ok(2))).toBe(2);
    expect(second.state).toBe('closed');
  });

  it('a closed breaker keeps its failure count', async () => {
    const clock = new ManualClock();
    const first = createCircuitBreaker({ failureThreshold: 3, clock });
    await settle(first.execute(boom()));
    await settle(first.execute(boom()));
    const second = createCircuitBreaker({
      failureThreshold: 3,
      clock,
      initialState: throughJson(first.toJSON()),
    });
    expect(second.state).toBe('closed');
    await settle(second.execute(boom()));
    expect(second.state).toBe('open');
  });

  it('a count window keeps its samples', async () => {
    const window = { type: 'count', size: 4, failureRateThreshold: 0.5 } as const;
    const clock = new ManualClock();
    const first = createCircuitBreaker({ window, clock });
    await first.execute(ok(1));
    await settle(first.execute(boom()));
    await settle(first.execute(boom()));
    const second = createCircuitBreaker({ window, clock, initialState: throughJson(first.toJSON()) });
    await settle(second.execute(boom())); // 3 of 4 failed
    expect(second.state).toBe('open');
  });

  it('an isolated breaker comes back isolated; reset() releases it', async () => {
    const clock = new ManualClock();
    const first = createCircuitBreaker({ clock });
    first.isolate();
    const second = createCircuitBreaker({ clock, initialState: throughJson(first.toJSON()) });
    expect(second.state).toBe('isolated');
    second.reset();
    expect(await second.execute(ok(1))).toBe(1);
  });

  it('a half-open breaker comes back open and lets the next call probe at once', async () => {
    const clock = new ManualClock();
    const first = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 1000, clock });
    await settle(first.execute(boom()));
    clock.advance(1000);
    const probe = first.execute(() => new Promise<number>(() => undefined));
    expect(first.state).toBe('half-open');
    const second = createCircuitBreaker({
      failureThreshold: 1,
      halfOpenAfterMs: 1000,
      clock,
      initialState: throughJson(first.toJSON()),
    });
    expect(second.state).toBe('open');
    expect(await second.execute(ok(5))).toBe(5);
    void probe;
  });

  it('refuses a snapshot of another kind or version, naming the field', () => {
    const snapshot = createCircuitBreaker({ clock: new ManualClock() }).toJSON();
    const wrongKind = () =>
      createCircuitBreaker({
        window: { type: 'count', size: 4, failureRateThreshold: 0.5 },
        initialState: snapshot,
      });
    expect(wrongKind).toThrow(expect.objectContaining({ field: 'initialState.kind' }));
    const wrongVersion = () => createCircuitBreaker({ initialState: { ...snapshot, version: 2 as 1 } });
    expect(wrongVersion).toThrow(expect.objectContaining({ field: 'initialState.version' }));
    const broken = () =>
      createCircuitBreaker({
        initialState: { ...snapshot, cockatiel: { ownState: { value: 7 }, breakerState: 0 } },
      });
    expect(broken).toThrow(expect.objectContaining({ field: 'initialState.cockatiel.ownState.value' }));
    try {
      wrongKind();
    } catch (error) {
      expect(isPerfConfigError(error)).toBe(true);
    }
  });
});
