import { ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../src/deadline-queue.js';

describe('DeadlineQueue (one timer for every Redis command timeout)', () => {
  it('expires unfinished entries after the bound, in order, with a single timer', () => {
    const clock = new ManualClock(0);
    const q = new DeadlineQueue(clock, 100);
    const expired: string[] = [];
    q.track(() => expired.push('a'));
    clock.advance(30);
    const b = q.track(() => expired.push('b'));
    clock.advance(30);
    q.track(() => expired.push('c'));
    expect(clock.pendingTimers).toBe(1);
    b.done = true; // finished in time
    clock.advance(40); // t = 100: a is due
    expect(expired).toEqual(['a']);
    clock.advance(59); // t = 159: c (due 160) not yet
    expect(expired).toEqual(['a']);
    clock.advance(1);
    expect(expired).toEqual(['a', 'c']);
    expect(clock.pendingTimers).toBe(0);
    expect(q.size).toBe(0);
  });

  it('sweeps finished entries as new ones arrive, so sequential work keeps it tiny', () => {
    const clock = new ManualClock(0);
    const q = new DeadlineQueue(clock, 1_000);
    for (let i = 0; i < 10_000; i++) q.track(() => undefined).done = true;
    expect(q.size).toBe(1);
  });

  it('expireAll() settles everything pending and clears its timer', () => {
    const clock = new ManualClock(0);
    const q = new DeadlineQueue(clock, 100);
    let n = 0;
    q.track(() => n++);
    q.track(() => n++).done = true;
    q.expireAll();
    expect(n).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
