import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, channels, type PerfEvent, perfChannel, publish, subscribeAll } from '../src/index.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('event channels', () => {
  it('every grouped channel is listed in CHANNEL_NAMES, with unique perf:<service>:<event> names', () => {
    const grouped = Object.values(channels).flatMap((group) => Object.values(group).map((c) => c.name));
    expect([...grouped].sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(new Set(CHANNEL_NAMES).size).toBe(CHANNEL_NAMES.length);
    for (const name of CHANNEL_NAMES) expect(name).toMatch(/^perf:(dedup|cache|breaker|tracing):[a-z]+$/);
  });

  it('channels are the process-wide diagnostics_channel objects, so any copy of @perf/core meets them', () => {
    expect(perfChannel('perf:cache:hit')).toBe(diagnosticsChannel.channel('perf:cache:hit'));
    expect(channels.cache.hit).toBe(diagnosticsChannel.channel('perf:cache:hit'));
  });

  it('publish() delivers to subscribers and does not build lazy payloads when nobody listens', () => {
    let built = 0;
    const make = () => {
      built++;
      return { namespace: 'n', key: 'k', tier: 'l1' as const };
    };
    publish(channels.cache.hit, make);
    expect(built).toBe(0);

    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    channels.cache.hit.subscribe(listener);
    cleanups.push(() => channels.cache.hit.unsubscribe(listener));
    publish(channels.cache.hit, make);
    publish(channels.cache.hit, { namespace: 'n', key: 'k2', tier: 'l2' });
    expect(built).toBe(1);
    expect(seen).toEqual([
      { namespace: 'n', key: 'k', tier: 'l1' },
      { namespace: 'n', key: 'k2', tier: 'l2' },
    ]);
  });

  it('subscribeAll sees every channel and unsubscribes cleanly', () => {
    const seen: PerfEvent[] = [];
    const off = subscribeAll((event) => seen.push(event));
    for (const name of CHANNEL_NAMES) {
      expect(diagnosticsChannel.hasSubscribers(name)).toBe(true);
      diagnosticsChannel.channel(name).publish({ probe: name });
    }
    expect(seen.map((e) => e.channel)).toEqual([...CHANNEL_NAMES]);
    expect(seen.every((e) => (e.payload as unknown as { probe: string }).probe === e.channel)).toBe(true);
    off();
    for (const name of CHANNEL_NAMES) expect(diagnosticsChannel.hasSubscribers(name)).toBe(false);
  });

  it('a throwing subscriber does not break the publisher', async () => {
    const off = subscribeAll(() => {
      throw new Error('observer bug');
    });
    cleanups.push(off);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    cleanups.push(() => process.off('uncaughtException', onUncaught));
    expect(() => publish(channels.breaker.state, { name: 'b', from: 'closed', to: 'open' })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    // Node reports subscriber errors on process 'uncaughtException' asynchronously, never to the publisher.
    expect(uncaught).toHaveLength(1);
    expect((uncaught[0] as Error).message).toBe('observer bug');
  });
});
