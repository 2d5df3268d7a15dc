/**
 * Sharing open/closed transitions across instances over real Redis pub/sub (127.0.0.1:6379).
 * Each "instance" has its own ioredis client and RedisBreakerSync; channels carry a random suffix
 * so parallel runs never meet. Pub/sub stores no keys, so there is nothing to clean up in Redis.
 */
import { randomUUID } from 'node:crypto';
import { isBrokenCircuitError, ManualClock } from '@perf/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REDIS_URL, redisAvailable } from '../../../../tooling/redis.js';
import {
  createBreakerRegistry,
  createCircuitBreaker,
  createRedisBreakerSync,
  type RedisBreakerSync,
} from '../../src/index.js';
import { boom, ok, recordEvents, settle, waitFor } from '../support/helpers.js';

describe.skipIf(!(await redisAvailable()))('Redis pub/sub sharing between instances', () => {
  const channel = `perf-test:resilience:${randomUUID()}:sync`;
  const clients: Redis[] = [];
  let a: RedisBreakerSync;
  let b: RedisBreakerSync;

  beforeAll(async () => {
    const ca = new Redis(REDIS_URL);
    const cb = new Redis(REDIS_URL);
    clients.push(ca, cb);
    a = createRedisBreakerSync({ redis: ca, channel, instanceId: 'instance-a' });
    b = createRedisBreakerSync({ redis: cb, channel, instanceId: 'instance-b' });
    await Promise.all([a.ready, b.ready]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('one instance opening opens the same breaker on the other, without its own failures', async () => {
    const name = `svc-${randomUUID()}`;
    const clock = new ManualClock();
    const onA = createCircuitBreaker({ name, failureThreshold: 3, sync: a, clock });
    const onB = createCircuitBreaker({ name, failureThreshold: 3, sync: b, clock });
    const other = createCircuitBreaker({ name: `${name}-other`, failureThreshold: 3, sync: b, clock });
    const rec = recordEvents();
    try {
      for (let i = 0; i < 3; i++) await settle(onA.execute(boom()));
      expect(onA.state).toBe('open');
      await waitFor(() => onB.state === 'open', 5000, 'the remote open to arrive');
      const fn = vi.fn(ok(1));
      expect(isBrokenCircuitError((await settle(onB.execute(fn))).error)).toBe(true);
      expect(fn).not.toHaveBeenCalled();
      expect(onB.stats().failures).toBe(0);
      expect(other.state).toBe('closed');
      expect(rec.of('perf:breaker:state').filter((e) => e.name === name && e.reason === 'remote')).toEqual([
        { name, from: 'closed', to: 'open', reason: 'remote' },
      ]);
    } finally {
      rec.stop();
      onA.close();
      onB.close();
      other.close();
    }
  });

  it('a successful probe closes the fleet again', async () => {
    const name = `svc-${randomUUID()}`;
    const clock = new ManualClock();
    const onA = createCircuitBreaker({ name, failureThreshold: 1, halfOpenAfterMs: 1000, sync: a, clock });
    const onB = createCircuitBreaker({ name, failureThreshold: 1, halfOpenAfterMs: 1000, sync: b, clock });
    await settle(onA.execute(boom()));
    await waitFor(() => onB.state === 'open', 5000, 'remote open');
    clock.advance(1000);
    expect(await onA.execute(ok('probe'))).toBe('probe');
    expect(onA.state).toBe('closed');
    await waitFor(() => onB.state === 'closed', 5000, 'remote close');
    expect(await onB.execute(ok('flows'))).toBe('flows');
    onA.close();
    onB.close();
  });

  it('keyed registries on two instances share per-key transitions over one subscription each', async () => {
    const prefix = `llm-${randomUUID()}`;
    const ra = createBreakerRegistry({
      name: prefix,
      sync: a,
      defaults: { failureThreshold: 2, clock: new ManualClock() },
    });
    const rb = createBreakerRegistry({
      name: prefix,
      sync: b,
      defaults: { failureThreshold: 2, clock: new ManualClock() },
    });
    const attachedBefore = b.stats().attached;
    for (let i = 0; i < 100; i++) rb.get(`model-${i}`);
    expect(b.stats().attached).toBe(attachedBefore + 100);
    await settle(ra.get('model-7').execute(boom()));
    await settle(ra.get('model-7').execute(boom()));
    await waitFor(() => rb.get('model-7').state === 'open', 5000, 'remote open of model-7');
    expect(rb.stats().states.open).toBe(1);
    ra.close();
    rb.close();
    expect(b.stats().attached).toBe(attachedBefore);
  });

  it('ignores malformed messages and its own messages', async () => {
    const name = `svc-${randomUUID()}`;
    const onB = createCircuitBreaker({ name, sync: b, clock: new ManualClock() });
    const errorsBefore = b.stats().errors;
    const publisher = clients[0]!;
    await publisher.publish(channel, 'not json');
    await publisher.publish(channel, JSON.stringify({ v: 1, from: 'x', name, state: 'exploded' }));
    await publisher.publish(channel, JSON.stringify({ v: 1, from: 'instance-b', name, state: 'open' }));
    await waitFor(() => b.stats().errors >= errorsBefore + 2, 5000, 'malformed messages to be counted');
    expect(onB.state).toBe('closed');
    onB.close();
  });
});
