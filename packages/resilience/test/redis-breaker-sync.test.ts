/**
 * RedisBreakerSync without a server: a fake ioredis client pair (publish + duplicate) on an
 * in-memory channel. The real-server behaviour is in test/integration/redis-*.test.ts.
 */
import { EventEmitter } from 'node:events';
import { isPerfClosedError, isPerfConfigError, ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import {
  createBreakerRegistry,
  createCircuitBreaker,
  createRedisBreakerSync,
  type RedisPublisherLike,
  type RedisSubscriberLike,
} from '../src/index.js';
import { boom, settle, tick } from './support/helpers.js';

function fakeRedisNetwork() {
  const subscribers = new Set<{ channels: Set<string>; emitter: EventEmitter }>();
  const hashes = new Map<string, Map<string, string>>();
  let down = false;
  const deliver = (channel: string, message: string) => {
    for (const s of subscribers) if (s.channels.has(channel)) s.emitter.emit('message', channel, message);
    return 1;
  };
  const client = (): RedisPublisherLike & {
    quits: number;
    publish: (channel: string, message: string) => Promise<number>;
  } => {
    const c = {
      quits: 0,
      publish: async (channel: string, message: string) => {
        if (down) throw new Error('Connection is closed.');
        return deliver(channel, message);
      },
      // The two scripts RedisBreakerSync runs: HSET + PEXPIRE + PUBLISH, and HMGET.
      eval: async (script: string, _keys: number, key: string, ...args: Array<string | number>) => {
        if (down) throw new Error('Connection is closed.');
        const hash = hashes.get(key) ?? new Map<string, string>();
        hashes.set(key, hash);
        if (script.includes('hmget')) return args.map((name) => hash.get(String(name)) ?? null);
        const [name, message, , channel] = args.map(String);
        hash.set(name!, message!);
        return deliver(channel!, message!);
      },
      duplicate: (): RedisSubscriberLike => {
        const emitter = new EventEmitter();
        const sub = { channels: new Set<string>(), emitter };
        subscribers.add(sub);
        return {
          subscribe: async (channel: string) => {
            sub.channels.add(channel);
            return 1;
          },
          unsubscribe: async (channel: string) => sub.channels.delete(channel),
          ping: async () => 'PONG',
          on: (event: string, listener: (...args: unknown[]) => void) => emitter.on(event, listener),
          quit: async () => {
            c.quits++;
            subscribers.delete(sub);
            return 'OK';
          },
          disconnect: () => subscribers.delete(sub),
        } as RedisSubscriberLike;
      },
    };
    return c;
  };
  return {
    client,
    setDown: (value: boolean) => {
      down = value;
    },
  };
}

describe('RedisBreakerSync (fake client)', () => {
  it('routes transitions by breaker name between instances and counts them', async () => {
    const net = fakeRedisNetwork();
    const a = createRedisBreakerSync({ redis: net.client(), channel: 'c', instanceId: 'a' });
    const b = createRedisBreakerSync({ redis: net.client(), channel: 'c', instanceId: 'b' });
    await Promise.all([a.ready, b.ready]);
    const onA = createCircuitBreaker({ name: 'n', failureThreshold: 1, sync: a, clock: new ManualClock() });
    const onB = createCircuitBreaker({ name: 'n', failureThreshold: 1, sync: b, clock: new ManualClock() });
    await settle(onA.execute(boom()));
    await tick();
    expect(onB.state).toBe('open');
    expect(a.stats()).toMatchObject({ attached: 1, sent: 1, received: 0, errors: 0 });
    expect(b.stats()).toMatchObject({ attached: 1, received: 1, applied: 1 });
    expect(a.instanceId).toBe('a');
  });

  it('malformed messages from anyone on the channel are counted, never thrown into the Redis client', async () => {
    const net = fakeRedisNetwork();
    const b = createRedisBreakerSync({ redis: net.client(), channel: 'c', instanceId: 'b' });
    await b.ready;
    const onB = createCircuitBreaker({ name: 'n', sync: b, clock: new ManualClock() });
    const stranger = net.client();
    // JSON that parses to something other than an object (a throw here would escape through
    // ioredis's socket handler as an uncaught exception).
    for (const raw of ['null', '42', '"open"', '[]', 'true', 'not json']) {
      await expect(stranger.publish('c', raw)).resolves.toBe(1);
    }
    expect(b.stats()).toMatchObject({ errors: 6, received: 0, applied: 0 });
    expect(onB.state).toBe('closed');
    await stranger.publish('c', JSON.stringify({ v: 1, from: 'a', name: 'n', state: 'open' }));
    expect(onB.state).toBe('open');
  });

  it('publish failures (Redis down) are counted, never thrown into calls', async () => {
    const net = fakeRedisNetwork();
    const a = createRedisBreakerSync({ redis: net.client(), channel: 'c' });
    await a.ready;
    const breaker = createCircuitBreaker({
      name: 'n',
      failureThreshold: 1,
      sync: a,
      clock: new ManualClock(),
    });
    net.setDown(true);
    const { error } = await settle(breaker.execute(boom('upstream')));
    expect((error as Error).message).toBe('upstream');
    expect(breaker.state).toBe('open');
    await tick();
    expect(a.stats().errors).toBe(1);
    expect(a.stats().pending).toBe(1); // remembered, not lost
  });

  it('a transition that failed to publish goes out with the next one that succeeds, superseded ones never', async () => {
    const net = fakeRedisNetwork();
    const a = createRedisBreakerSync({ redis: net.client(), channel: 'c', instanceId: 'a' });
    const b = createRedisBreakerSync({ redis: net.client(), channel: 'c', instanceId: 'b' });
    await Promise.all([a.ready, b.ready]);
    const clock = new ManualClock();
    const failed = createCircuitBreaker({ name: 'failed', failureThreshold: 1, sync: a, clock });
    const other = createCircuitBreaker({ name: 'other', failureThreshold: 1, sync: a, clock });
    const failedOnB = createCircuitBreaker({ name: 'failed', failureThreshold: 1, sync: b, clock });
    const otherOnB = createCircuitBreaker({ name: 'other', failureThreshold: 1, sync: b, clock });
    net.setDown(true);
    await settle(failed.execute(boom()));
    await tick();
    expect(a.stats().pending).toBe(1);
    expect(failedOnB.state).toBe('closed');
    net.setDown(false);
    await settle(other.execute(boom()));
    await tick();
    expect(otherOnB.state).toBe('open');
    expect(failedOnB.state).toBe('open'); // replayed after the next successful publish
    expect(a.stats().pending).toBe(0);
  });

  it('bounds attached breakers by maxBreakers; detaching frees room; registries detach evicted breakers', async () => {
    const net = fakeRedisNetwork();
    const sync = createRedisBreakerSync({ redis: net.client(), maxBreakers: 3 });
    const registry = createBreakerRegistry({ maxBreakers: 2, sync, defaults: { clock: new ManualClock() } });
    registry.get('a');
    registry.get('b');
    registry.get('c'); // evicts a: detached
    expect(sync.stats().attached).toBe(2);
    createCircuitBreaker({ name: 'x', sync });
    try {
      createCircuitBreaker({ name: 'y', sync });
      expect.unreachable();
    } catch (error) {
      expect(isPerfConfigError(error)).toBe(true);
    }
    registry.close();
    expect(sync.stats().attached).toBe(1);
  });

  it('close() quits only the duplicate connection, is idempotent, and refuses new breakers', async () => {
    const net = fakeRedisNetwork();
    const redis = net.client();
    const sync = createRedisBreakerSync({ redis });
    await sync.ready;
    await sync.close();
    await sync.close();
    expect(redis.quits).toBe(1);
    try {
      createCircuitBreaker({ name: 'late', sync });
      expect.unreachable();
    } catch (error) {
      expect(isPerfClosedError(error)).toBe(true);
    }
  });
});
