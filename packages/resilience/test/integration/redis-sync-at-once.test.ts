/**
 * Breaker sharing used the way the README shows it: constructed and used at once, without
 * `await sync.ready`, while the clients are still connecting, on the real Redis (127.0.0.1:6379)
 * and on a private redis-server that only starts after the first transitions.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { isPerfConfigError, isPerfTimeoutError, ManualClock } from '@perf/core';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, REDIS_URL, redisAvailable } from '../../../../tooling/redis.js';
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

const clients: Redis[] = [];
const syncs: RedisBreakerSync[] = [];
const channels: string[] = [];

function fleet(url: string, size: number, extra: RedisOptions = {}, connectTimeoutMs?: number) {
  const channel = `perf-test:resilience:${randomUUID()}:sync`;
  channels.push(channel);
  return Array.from({ length: size }, (_, i) => {
    const redis = new Redis(url, { lazyConnect: i === 1, ...extra });
    redis.on('error', () => {}); // unreachable on purpose in some tests
    clients.push(redis);
    const sync = createRedisBreakerSync({
      redis,
      channel,
      instanceId: `instance-${i}`,
      ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
    });
    syncs.push(sync);
    return sync;
  });
}

async function closeAll(): Promise<void> {
  await Promise.all(syncs.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
}

describe.skipIf(!(await redisAvailable()))('breaker sharing used before Redis is ready (real Redis)', () => {
  afterEach(closeAll);

  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    if (channels.length > 0) await admin.del(...channels.map((c) => `${c}:state`));
    await admin.quit();
  });

  it('an open made before the clients connect reaches the other two instances, and so does the close', async () => {
    const clock = new ManualClock();
    const name = `svc-${randomUUID()}`;
    const [a, b, c] = fleet(REDIS_URL, 3);
    const onA = createCircuitBreaker({ name, failureThreshold: 1, halfOpenAfterMs: 1000, sync: a, clock });
    const onB = createCircuitBreaker({ name, failureThreshold: 1, sync: b, clock });
    const onC = createCircuitBreaker({ name, failureThreshold: 1, sync: c, clock });
    await settle(onA.execute(boom())); // before any connection is ready
    expect(onA.state).toBe('open');
    await waitFor(() => onB.state === 'open' && onC.state === 'open', 5000, 'the open to reach B and C');
    expect(onB.stats().failures).toBe(0);
    clock.advance(1000);
    expect(await onA.execute(ok('probe'))).toBe('probe');
    await waitFor(() => onB.state === 'closed' && onC.state === 'closed', 5000, 'the close to reach B and C');
    expect(a!.stats().pending).toBe(0);
    for (const breaker of [onA, onB, onC]) breaker.close();
  });

  it('an instance started after a transition reads it back on connect', async () => {
    const name = `svc-${randomUUID()}`;
    const [a] = fleet(REDIS_URL, 1);
    const onA = createCircuitBreaker({ name, failureThreshold: 1, sync: a, clock: new ManualClock() });
    await settle(onA.execute(boom()));
    await a!.ready;
    await waitFor(() => a!.stats().sent === 1 && a!.stats().pending === 0, 5000, 'the open to be sent');
    const late = createRedisBreakerSync({
      redis: clients[0]!,
      channel: channels.at(-1)!,
      instanceId: 'late',
    });
    syncs.push(late);
    const onLate = createCircuitBreaker({ name, sync: late, clock: new ManualClock() });
    await waitFor(() => onLate.state === 'open', 5000, 'the late instance to read the open back');
    onA.close();
    onLate.close();
  });

  it('refuses a bad connectTimeoutMs or stateTtlMs naming the field', () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    clients.push(redis);
    for (const [field, bad] of [
      ['connectTimeoutMs', 0],
      ['connectTimeoutMs', 2 ** 31],
      ['stateTtlMs', -5],
      ['stateTtlMs', 1.5],
    ] as const) {
      let caught: unknown;
      try {
        createRedisBreakerSync({ redis, [field]: bad });
      } catch (error) {
        caught = error;
      }
      expect(isPerfConfigError(caught)).toBe(true);
      expect((caught as { field: string }).field).toBe(field);
    }
  });
});

describe.skipIf(!(await redisAvailable()) || !hasRedisServer())(
  'breaker sharing with Redis unreachable at start',
  () => {
    const servers: PrivateRedis[] = [];

    afterEach(async () => {
      await closeAll();
      await Promise.all(servers.splice(0).map((s) => s.kill()));
    });

    it('transitions made before Redis exists are published once it starts: nothing lost', async () => {
      const server = new PrivateRedis(await freePort());
      servers.push(server);
      const [a, b, c] = fleet(server.url, 3, { retryStrategy: () => 50 });
      const clock = new ManualClock();
      const opened = `svc-${randomUUID()}`;
      const reopened = `svc-${randomUUID()}`;
      const onA = createCircuitBreaker({ name: opened, failureThreshold: 1, sync: a, clock });
      const onB = createCircuitBreaker({ name: opened, failureThreshold: 1, sync: b, clock });
      const onC = createCircuitBreaker({ name: opened, failureThreshold: 1, sync: c, clock });
      // Opened, reset, opened again while unreachable: the latest (open) is the one that goes out.
      const twiceA = createCircuitBreaker({ name: reopened, failureThreshold: 1, sync: a, clock });
      const twiceC = createCircuitBreaker({ name: reopened, failureThreshold: 1, sync: c, clock });
      await settle(onA.execute(boom()));
      await settle(twiceA.execute(boom()));
      twiceA.reset();
      await settle(twiceA.execute(boom()));
      await new Promise((r) => setTimeout(r, 200));
      expect(a!.stats().pending).toBe(2);
      expect(onB.state).toBe('closed');

      await server.start();
      await waitFor(
        () => onB.state === 'open' && onC.state === 'open' && twiceC.state === 'open',
        10_000,
        'the remembered transitions to reach B and C',
      );
      expect(a!.stats().pending).toBe(0);
      for (const breaker of [onA, onB, onC, twiceA, twiceC]) breaker.close();
    });

    it('ready rejects with PerfTimeoutError past connectTimeoutMs, and resolves once Redis is up', async () => {
      const server = new PrivateRedis(await freePort());
      servers.push(server);
      const [a] = fleet(server.url, 1, { retryStrategy: () => 50 }, 200);
      const error = await a!.ready.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isPerfTimeoutError(error)).toBe(true);
      expect((error as { timeoutMs: number }).timeoutMs).toBe(200);
      await server.start();
      await expect(a!.ready).resolves.toBeUndefined(); // waits afresh, up to 200 ms from this read
    });
  },
);
