import { ManualClock, type PerfEvent, subscribeAll } from '@perf/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Deduplicator } from '../src/index.js';
import { deferred, outcome } from './helpers.js';

let unsubscribe: (() => void) | undefined;
afterEach(() => {
  unsubscribe?.();
  unsubscribe = undefined;
});

function record(name: string): PerfEvent[] {
  const events: PerfEvent[] = [];
  unsubscribe = subscribeAll((event) => {
    if (event.channel.startsWith('perf:dedup:') && (event.payload as { name: string }).name === name) {
      events.push(event);
    }
  });
  return events;
}

describe('Deduplicator events (perf:dedup:* channels)', () => {
  it('publishes lead, join and one settle per caller, with correlation ids', async () => {
    const clock = new ManualClock();
    const events = record('ev1');
    const dedup = new Deduplicator({ name: 'ev1', clock });
    const gate = deferred<string>();
    const a = dedup.runDetailed('k', () => gate.promise);
    const b = dedup.runDetailed('k', () => gate.promise);
    clock.advance(12);
    gate.resolve('v');
    const [la, lb] = await Promise.all([a, b]);
    const leaderId = la.info.correlationId;
    expect(events.map((e) => e.channel)).toEqual([
      'perf:dedup:lead',
      'perf:dedup:join',
      'perf:dedup:settle',
      'perf:dedup:settle',
    ]);
    expect(events[0]?.payload).toEqual({ name: 'ev1', key: 'k', correlationId: leaderId });
    expect(events[1]?.payload).toEqual({
      name: 'ev1',
      key: 'k',
      correlationId: lb.info.correlationId,
      leaderCorrelationId: leaderId,
    });
    expect(events[2]?.payload).toEqual({
      name: 'ev1',
      key: 'k',
      correlationId: leaderId,
      role: 'leader',
      leaderCorrelationId: leaderId,
      outcome: 'success',
      durationMs: 12,
    });
    expect(events[3]?.payload).toMatchObject({
      role: 'follower',
      outcome: 'success',
      leaderCorrelationId: leaderId,
    });
  });

  it('publishes settle for callers without options while someone listens', async () => {
    const events = record('ev2');
    const dedup = new Deduplicator({ name: 'ev2' });
    await Promise.all([dedup.run('k', async () => 1), dedup.run('k', async () => 1)]);
    expect(events.filter((e) => e.channel === 'perf:dedup:settle')).toHaveLength(2);
  });

  it('publishes timeout for a caller’s own wait and for the in-flight limit', async () => {
    const clock = new ManualClock();
    const events = record('ev3');
    const dedup = new Deduplicator({ name: 'ev3', clock, timeoutMs: 100 });
    const never = () => new Promise<never>(() => {});
    const a = outcome(dedup.run('k', never));
    const b = outcome(dedup.run('k', never, { timeoutMs: 10 }));
    clock.advance(10);
    clock.advance(90);
    await Promise.all([a, b]);
    const timeouts = events.filter((e) => e.channel === 'perf:dedup:timeout').map((e) => e.payload);
    expect(timeouts).toEqual([
      expect.objectContaining({ role: 'follower', timeoutMs: 10 }),
      expect.objectContaining({ role: 'leader', timeoutMs: 100 }),
    ]);
    const settles = events.filter((e) => e.channel === 'perf:dedup:settle').map((e) => e.payload);
    expect(settles.map((s) => (s as { outcome: string }).outcome).sort()).toEqual(['timeout', 'timeout']);
  });

  it('publishes bypass when the in-flight table is full, and aborted settles', async () => {
    const events = record('ev4');
    const dedup = new Deduplicator({ name: 'ev4', maxInFlight: 1 });
    const gate = deferred<number>();
    const a = dedup.run('a', () => gate.promise);
    const b = dedup.run('b', () => gate.promise);
    const aborted = outcome(dedup.run('c', async () => 1, { signal: AbortSignal.abort() }));
    gate.resolve(1);
    await Promise.all([a, b, aborted]);
    expect(events.find((e) => e.channel === 'perf:dedup:bypass')?.payload).toEqual({
      name: 'ev4',
      key: 'b',
      reason: 'max-in-flight',
    });
    expect(
      events.some(
        (e) => e.channel === 'perf:dedup:settle' && (e.payload as { outcome: string }).outcome === 'aborted',
      ),
    ).toBe(true);
  });
});
