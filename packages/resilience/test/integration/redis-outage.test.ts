/**
 * Sharing survives a Redis outage: a private redis-server (port 6411) is killed while breakers
 * keep working locally, then restarted; ioredis reconnects and re-subscribes and sharing resumes.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { isBrokenCircuitError, ManualClock } from '@perf/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, redisAvailable } from '../../../../tooling/redis.js';
import { createCircuitBreaker, createRedisBreakerSync, type RedisBreakerSync } from '../../src/index.js';
import { boom, ok, settle, waitFor } from '../support/helpers.js';

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('CI=true but the redis-server binary is missing');
    return false;
  }
}

// Needs the redis-server binary (CI installs it with Redis); under CI=true a missing one fails.
describe.skipIf(!(await redisAvailable()) || !hasRedisServer())('Redis outage while sharing', () => {
  const server = new PrivateRedis(6411);
  const channel = `perf-test:resilience:${randomUUID()}:sync`;
  const clients: Redis[] = [];
  let a: RedisBreakerSync;
  let b: RedisBreakerSync;

  beforeAll(async () => {
    await server.start();
    for (let i = 0; i < 2; i++) {
      clients.push(new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 }));
    }
    a = createRedisBreakerSync({ redis: clients[0]!, channel, instanceId: 'a' });
    b = createRedisBreakerSync({ redis: clients[1]!, channel, instanceId: 'b' });
    await Promise.all([a.ready, b.ready]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const c of clients) c.disconnect();
    await server.kill();
  });

  it('breakers keep working locally while Redis is down, and sharing resumes after it returns', async () => {
    const clock = new ManualClock();
    const name = `svc-${randomUUID()}`;
    const onA = createCircuitBreaker({ name, failureThreshold: 2, halfOpenAfterMs: 1000, sync: a, clock });
    const onB = createCircuitBreaker({ name, failureThreshold: 2, halfOpenAfterMs: 1000, sync: b, clock });

    await server.kill();
    // Local behaviour does not wait for Redis: open, reject fast, probe and close.
    const started = performance.now();
    await settle(onA.execute(boom()));
    await settle(onA.execute(boom()));
    expect(onA.state).toBe('open');
    for (let i = 0; i < 100; i++)
      expect(isBrokenCircuitError((await settle(onA.execute(ok(1)))).error)).toBe(true);
    clock.advance(1000);
    expect(await onA.execute(ok('probe'))).toBe('probe');
    expect(onA.state).toBe('closed');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await onB.execute(ok('b'))).toBe('b');

    await server.start();
    // After reconnection and re-subscription, an open on A reaches B again.
    await waitFor(
      () => {
        if (onB.state === 'open') return true;
        onA.reset(); // publish closed, then open again: retried until the subscribers are back
        void settle(onA.execute(boom())).then(() => settle(onA.execute(boom())));
        return false;
      },
      15_000,
      'sharing to resume after the restart',
    );
    expect(onB.state).toBe('open');
    // Transitions made while Redis was down were remembered (the latest per breaker) and sent once
    // it was back, not attempted one by one: so at least one send, and nothing left waiting.
    expect(a.stats().sent).toBeGreaterThanOrEqual(1);
    await waitFor(() => a.stats().pending === 0, 5000, 'the remembered transitions to go out');
    onA.close();
    onB.close();
  }, 30_000);
});
