import { EventEmitter } from 'node:events';
import { deserialize } from 'node:v8';
import { ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { Deduplicator, type RedisLike, type RedisSubscriberLike } from '../src/index.js';

/** A fake ioredis pair that records commands (the real protocol is tested in test/integration/). */
function fakeRedis(options: { setReply?: 'OK' | null; fail?: boolean; setGate?: Promise<void> } = {}) {
  const commands: string[] = [];
  const published: unknown[] = [];
  const subscriber: RedisSubscriberLike & { quitCalled: boolean } = {
    quitCalled: false,
    subscribe: async (channel: string) => {
      commands.push(`SUBSCRIBE ${channel}`);
    },
    unsubscribe: async () => {},
    ping: async () => {
      commands.push('PING');
      return 'PONG';
    },
    on: () => subscriber,
    removeListener: () => subscriber,
    quit: async () => {
      subscriber.quitCalled = true;
    },
  };
  const redis: RedisLike & { duplicate: () => RedisSubscriberLike } = {
    set: async (key: string) => {
      commands.push(`SET ${key}`);
      await options.setGate;
      if (options.fail) throw new Error('connection lost');
      return options.setReply ?? 'OK';
    },
    eval: async (_script: string, _n: number, ...args: Array<string | Buffer | number>) => {
      commands.push(`EVAL${args.length === 2 ? ' UNLOCK' : ''} ${String(args[0])}`);
      if (args.length === 4) published.push(deserialize(args[3] as Buffer));
      return 1;
    },
    duplicate: () => subscriber,
  };
  return { redis, subscriber, commands, published };
}

/** The fake pair, but reporting ioredis' `status` and emitting `ready` when told to. */
function connectingRedis() {
  const fake = fakeRedis();
  const events = new EventEmitter();
  let status = 'connecting';
  const withStatus = <T extends object>(target: T) =>
    Object.assign(Object.defineProperty(target, 'status', { get: () => status }), {
      on: (event: string, listener: () => void) => {
        events.on(`${event}`, listener);
        return target;
      },
      removeListener: (event: string, listener: () => void) => {
        events.removeListener(event, listener);
        return target;
      },
    });
  const subscriber = withStatus({ ...fake.subscriber });
  const redis = withStatus({ ...fake.redis, duplicate: () => subscriber });
  return {
    ...fake,
    redis,
    listeners: () => events.listenerCount('ready'),
    connect() {
      status = 'ready';
      events.emit('ready');
    },
  };
}

describe('distributed mode before the clients are ready (unit, fake Redis)', () => {
  it('a call made while connecting waits for ready, then leads as usual (not an outage)', async () => {
    const clock = new ManualClock();
    const net = connectingRedis();
    const dedup = new Deduplicator({ clock, distributed: { redis: net.redis, prefix: 'p:' } });
    const call = dedup.run('k', async () => 'v');
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(net.commands).toEqual([]); // nothing sent before ready, nothing run locally
    clock.advance(4_999);
    net.connect();
    await expect(call).resolves.toBe('v');
    expect(dedup.stats().distributed).toMatchObject({ leads: 1, fallbacks: 0 });
    expect(net.listeners()).toBe(0); // the ready listeners are gone once connected
    await dedup.close();
  });

  it('past connectTimeoutMs (one deadline from construction) calls run locally, and later ones at once', async () => {
    const clock = new ManualClock();
    const net = connectingRedis();
    const dedup = new Deduplicator({ clock, distributed: { redis: net.redis, connectTimeoutMs: 300 } });
    clock.advance(200);
    const call = dedup.run('k', async () => 'local');
    await new Promise((r) => setImmediate(r));
    clock.advance(100); // the deadline: 300 ms after construction, not after the call
    await expect(call).resolves.toBe('local');
    await expect(dedup.run('k2', async () => 'at once')).resolves.toBe('at once');
    expect(dedup.stats().distributed).toMatchObject({ leads: 0, fallbacks: 2 });
    const ready = dedup.ready();
    clock.advance(300);
    await expect(ready).rejects.toMatchObject({ code: 'ERR_PERF_TIMEOUT', timeoutMs: 300 });
    net.connect();
    await dedup.ready();
    await expect(dedup.run('k3', async () => 'shared')).resolves.toBe('shared');
    expect(dedup.stats().distributed?.leads).toBe(1);
    await dedup.close();
  });

  it('the wait stays inside the in-flight limit: half of a short timeoutMs by default, and never timeoutMs or more', async () => {
    const clock = new ManualClock();
    const net = connectingRedis();
    const dedup = new Deduplicator({ clock, timeoutMs: 2000, distributed: { redis: net.redis } });
    const call = dedup.run('k', async () => 'local');
    await new Promise((r) => setImmediate(r));
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(dedup.stats().distributed?.fallbacks).toBe(0); // still waiting
    clock.advance(1); // 1000 ms: half of timeoutMs, well before the call would be abandoned
    await expect(call).resolves.toBe('local');
    await dedup.close();
    let caught: unknown;
    try {
      new Deduplicator({ timeoutMs: 2000, distributed: { redis: net.redis, connectTimeoutMs: 2000 } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ERR_PERF_CONFIG', field: 'distributed.connectTimeoutMs' });
  });

  it('close() ends the wait: the waiting call and ready() reject with PerfClosedError', async () => {
    const net = connectingRedis();
    const dedup = new Deduplicator({ distributed: { redis: net.redis } });
    const call = dedup.run('k', async () => 'never');
    const ready = dedup.ready();
    await dedup.close();
    await expect(call).rejects.toMatchObject({ code: 'ERR_PERF_CLOSED' });
    await expect(ready).rejects.toMatchObject({ code: 'ERR_PERF_CLOSED' });
    expect(net.listeners()).toBe(0);
  });
});

describe('distributed mode (unit, fake Redis)', () => {
  it('takes the lock, runs fn, then releases and publishes in one script', async () => {
    const { redis, commands, subscriber } = fakeRedis();
    const dedup = new Deduplicator({ name: 'u', distributed: { redis, prefix: 'p:' } });
    await expect(dedup.run('k', async () => 'v')).resolves.toBe('v');
    await new Promise((r) => setImmediate(r));
    expect(commands).toEqual(['SUBSCRIBE p:u:done', 'SET p:u:lock:k', 'PING', 'EVAL p:u:lock:k']);
    expect(dedup.stats().distributed).toMatchObject({ leads: 1, fallbacks: 0 });
    await dedup.close();
    expect(subscriber.quitCalled).toBe(true);
  });

  it('publishes the value, or "not shared" when it cannot be serialized or the leader failed', async () => {
    const { redis, published } = fakeRedis();
    const dedup = new Deduplicator({ distributed: { redis } });
    await dedup.run('a', async () => ({ at: new Date(0) }));
    const fn = () => 1;
    await expect(dedup.run('b', async () => ({ fn }))).resolves.toEqual({ fn }); // the leader still gets it
    await expect(dedup.run('c', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await new Promise((r) => setImmediate(r));
    expect(published).toEqual([
      { k: 'a', ok: true, v: { at: new Date(0) } },
      { k: 'b', ok: false },
      { k: 'c', ok: false },
    ]);
    await dedup.close();
  });

  it('hands the lock back without publishing when the call was cancelled while taking it', async () => {
    let openGate!: () => void;
    const setGate = new Promise<void>((r) => (openGate = r));
    const { redis, commands, published } = fakeRedis({ setGate });
    const dedup = new Deduplicator({ distributed: { redis, prefix: 'p:' } });
    let runs = 0;
    const call = dedup.run('k', async () => {
      runs++;
      return 1;
    });
    await new Promise((r) => setImmediate(r));
    const closing = dedup.close(); // cancels the call while SET NX is on its way
    openGate();
    await expect(call).rejects.toThrow(/closed/);
    await closing;
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(0);
    expect(commands).toContain('EVAL UNLOCK p:default:lock:k');
    expect(published).toEqual([]);
  });

  it('stops extending the fleet lock once the operation is abandoned, and releases it at once', async () => {
    // A hung upstream must not pin the key across the fleet: after the in-flight limit the leader's
    // heartbeat stops and the lock goes back (followers elsewhere are told to run locally).
    const clock = new ManualClock();
    const { redis, commands, published } = fakeRedis();
    const dedup = new Deduplicator({
      clock,
      timeoutMs: 1_000,
      distributed: { redis, prefix: 'p:', lockTtlMs: 300 },
    });
    const hung = dedup.run('k', () => new Promise<never>(() => {})); // ignores its signal
    const settled = hung.catch((error: unknown) => error);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(commands).toContain('SET p:default:lock:k');
    clock.advance(900); // extends every 100 ms while the operation is wanted
    await new Promise((r) => setImmediate(r));
    const extendsBefore = commands.filter((c) => c === 'EVAL p:default:lock:k').length;
    expect(extendsBefore).toBeGreaterThanOrEqual(8);
    clock.advance(100); // the in-flight limit: abandoned
    expect(await settled).toMatchObject({ code: 'ERR_PERF_TIMEOUT' });
    await new Promise((r) => setImmediate(r));
    const atAbandon = commands.length;
    expect(published).toEqual([{ k: 'k', ok: false }]); // released and told, not left to lapse
    clock.advance(5_000);
    await new Promise((r) => setImmediate(r));
    expect(commands.slice(atAbandon)).toEqual([]); // no more extends for the abandoned operation
    await dedup.close();
  });

  it('skips Redis for calls that bypassed the full local table', async () => {
    const { redis, commands } = fakeRedis();
    const dedup = new Deduplicator({ maxInFlight: 1, distributed: { redis, prefix: 'p:' } });
    let release!: () => void;
    const hold = dedup.run('a', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setImmediate(r));
    const before = commands.length;
    await expect(dedup.run('b', async () => 'bypassed')).resolves.toBe('bypassed');
    expect(commands.length).toBe(before);
    expect(dedup.stats().bypassed).toBe(1);
    release();
    await hold;
    await dedup.close();
  });

  it('runs locally when Redis fails, then skips Redis for outageBackoffMs', async () => {
    const clock = new ManualClock();
    const { redis, commands } = fakeRedis({ fail: true });
    const dedup = new Deduplicator({ clock, distributed: { redis, outageBackoffMs: 500 } });
    await expect(dedup.run('k', async () => 'local')).resolves.toBe('local');
    expect(dedup.stats().distributed).toMatchObject({ fallbacks: 1, redisErrors: 1, leads: 0 });
    const tried = commands.length;
    await expect(dedup.run('k', async () => 'local again')).resolves.toBe('local again');
    expect(commands.length).toBe(tried); // Redis not even tried during the backoff
    clock.advance(500);
    await dedup.run('k', async () => 'retry');
    expect(commands.length).toBeGreaterThan(tried);
    expect(dedup.stats().distributed).toMatchObject({ fallbacks: 3, redisErrors: 2 });
    await dedup.close();
  });

  it('does not close a subscriber you passed', async () => {
    const { redis, subscriber } = fakeRedis();
    const dedup = new Deduplicator({ distributed: { redis, subscriber } });
    await dedup.run('k', async () => 1);
    await dedup.close();
    expect(subscriber.quitCalled).toBe(false);
  });

  it('needs a subscriber when the client cannot duplicate itself', () => {
    const { redis } = fakeRedis();
    const { duplicate: _d, ...noDuplicate } = redis;
    expect(() => new Deduplicator({ distributed: { redis: noDuplicate } })).toThrow(/distributed.subscriber/);
  });
});
