/**
 * The BreakerSync contract with an in-memory bus (the Redis implementation is tested against a
 * real server in test/integration/): which transitions are shared, and which remote ones apply.
 */
import { isBrokenCircuitError, ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { type BreakerSync, createCircuitBreaker, type SharedState } from '../src/index.js';
import { boom, deferred, ok, recordEvents, settle } from './support/helpers.js';

/** Instances on one in-memory bus: each publish reaches every other instance synchronously. */
function memoryBus() {
  const instances: Array<Map<string, Set<(s: SharedState) => void>>> = [];
  const sent: Array<{ from: number; name: string; state: SharedState }> = [];
  const instance = (): BreakerSync => {
    const id = instances.length;
    const table = new Map<string, Set<(s: SharedState) => void>>();
    instances.push(table);
    return {
      attach(name, onRemote) {
        const set = table.get(name) ?? new Set();
        set.add(onRemote);
        table.set(name, set);
        return {
          publish(state) {
            sent.push({ from: id, name, state });
            instances.forEach((t, i) => {
              if (i !== id) for (const h of t.get(name) ?? []) h(state);
            });
          },
          detach() {
            table.get(name)?.delete(onRemote);
          },
        };
      },
    };
  };
  return { instance, sent };
}

describe('sharing transitions through a BreakerSync', () => {
  it('shares open and closed (not half-open), and applies remote ones with reason "remote"', async () => {
    const bus = memoryBus();
    const clock = new ManualClock();
    const a = createCircuitBreaker({
      name: 's',
      failureThreshold: 1,
      halfOpenAfterMs: 100,
      sync: bus.instance(),
      clock,
    });
    const b = createCircuitBreaker({
      name: 's',
      failureThreshold: 1,
      halfOpenAfterMs: 100,
      sync: bus.instance(),
      clock,
    });
    const rec = recordEvents();
    try {
      await settle(a.execute(boom()));
      expect(b.state).toBe('open');
      expect(isBrokenCircuitError((await settle(b.execute(ok(1)))).error)).toBe(true);
      clock.advance(100);
      expect(await a.execute(ok(1))).toBe(1);
      expect(b.state).toBe('closed');
      expect(bus.sent.map((m) => m.state)).toEqual(['open', 'closed']);
      expect(
        rec
          .of('perf:breaker:state')
          .filter((e) => e.reason === 'remote')
          .map((e) => e.to),
      ).toEqual(['open', 'closed']);
    } finally {
      rec.stop();
    }
  });

  it('reset() is shared as closed', async () => {
    const bus = memoryBus();
    const a = createCircuitBreaker({
      name: 'r',
      failureThreshold: 1,
      sync: bus.instance(),
      clock: new ManualClock(),
    });
    const b = createCircuitBreaker({
      name: 'r',
      failureThreshold: 1,
      sync: bus.instance(),
      clock: new ManualClock(),
    });
    await settle(a.execute(boom()));
    expect(b.state).toBe('open');
    a.reset();
    expect(b.state).toBe('closed');
  });

  it('a remote open does not override isolation or a running probe; a remote close does not end isolation', async () => {
    const bus = memoryBus();
    const clock = new ManualClock();
    const a = createCircuitBreaker({
      name: 'i',
      failureThreshold: 1,
      halfOpenAfterMs: 100,
      sync: bus.instance(),
      clock,
    });
    const b = createCircuitBreaker({
      name: 'i',
      failureThreshold: 1,
      halfOpenAfterMs: 100,
      sync: bus.instance(),
      clock,
    });
    b.isolate();
    await settle(a.execute(boom()));
    expect(b.state).toBe('isolated');
    a.reset();
    expect(b.state).toBe('isolated');
    b.reset();
    // b half-open with a probe running: a remote open leaves it to the probe
    await settle(b.execute(boom()));
    clock.advance(100);
    const probe = deferred<number>();
    const running = b.execute(() => probe.promise);
    expect(b.state).toBe('half-open');
    a.reset();
    await settle(a.execute(boom()));
    expect(b.state).toBe('half-open');
    probe.resolve(1);
    await running;
    expect(b.state).toBe('closed');
  });

  it('close() detaches: a closed breaker neither publishes nor receives', async () => {
    const bus = memoryBus();
    const a = createCircuitBreaker({
      name: 'c',
      failureThreshold: 1,
      sync: bus.instance(),
      clock: new ManualClock(),
    });
    const b = createCircuitBreaker({
      name: 'c',
      failureThreshold: 1,
      sync: bus.instance(),
      clock: new ManualClock(),
    });
    b.close();
    await settle(a.execute(boom()));
    expect(b.state).toBe('closed');
    expect(bus.sent).toHaveLength(1);
  });

  it('breakers with other names are not affected', async () => {
    const bus = memoryBus();
    const a = createCircuitBreaker({
      name: 'x',
      failureThreshold: 1,
      sync: bus.instance(),
      clock: new ManualClock(),
    });
    const b = createCircuitBreaker({
      name: 'y',
      failureThreshold: 1,
      sync: bus.instance(),
      clock: new ManualClock(),
    });
    await settle(a.execute(boom()));
    expect(b.state).toBe('closed');
  });
});
