import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../src/index.js';

describe('ManualClock', () => {
  it('only moves when told to', () => {
    const clock = new ManualClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
    clock.set(2000);
    expect(clock.now()).toBe(2000);
    clock.set(10); // never backwards
    expect(clock.now()).toBe(2000);
  });

  it('fires due timers in time order, with now() at their due time', () => {
    const clock = new ManualClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 30);
    clock.advance(25);
    expect(fired).toEqual([
      ['a', 10],
      ['b', 20],
    ]);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(5);
    expect(fired.at(-1)).toEqual(['c', 30]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers scheduled by timers within the same advance, and honours clearTimeout', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 5);
    const cancelled = clock.setTimeout(() => fired.push(-1), 7);
    clock.clearTimeout(cancelled);
    clock.advance(20);
    expect(fired).toEqual([10]);
  });

  it('timers with equal due times fire in scheduling order', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('first'), 5);
    clock.setTimeout(() => fired.push('second'), 5);
    clock.advance(5);
    expect(fired).toEqual(['first', 'second']);
  });
});

describe('systemClock', () => {
  it('reads wall time and runs unref’ed timers', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    const handle = systemClock.setTimeout(() => {}, 1000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    systemClock.clearTimeout(handle);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 1));
  });
});
