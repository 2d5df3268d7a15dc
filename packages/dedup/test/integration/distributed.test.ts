import { randomBytes } from 'node:crypto';
import { isPerfConfigError, isPerfTimeoutError } from '@perf/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, REDIS_URL, redisAvailable } from '../../../../tooling/redis.js';
import { Deduplicator } from '../../src/index.js';

const PREFIX = `perf-test:dedup:${randomBytes(6).toString('hex')}:`;
const clients: Redis[] = [];
const instances: Deduplicator[] = [];

function client(url = REDIS_URL, extra: Record<string, unknown> = {}): Redis {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, ...extra });
  redis.on('error', () => {}); // outage tests make errors on purpose
  clients.push(redis);
  return redis;
}

function instance(options: Record<string, unknown> = {}, distributed: Record<string, unknown> = {}) {
  const dedup = new Deduplicator({
    name: 'fleet',
    ...options,
    distributed: { redis: client(), prefix: PREFIX, lockTtlMs: 2000, pollMs: 50, ...distributed },
  });
  instances.push(dedup);
  return dedup;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until an instance holds `key`'s fleet lock. The leader is whoever takes the lock first, and
 * a client constructed a moment ago may still be connecting: a fixed head start (it used to be
 * `sleep(30)`) does not decide who leads on a loaded machine; the lock does.
 */
async function lockTaken(key: string, name = 'fleet'): Promise<void> {
  const admin = clients[0] ?? client();
  const deadline = Date.now() + 5000;
  while ((await admin.exists(`${PREFIX}${name}:lock:${key}`)) === 0) {
    if (Date.now() > deadline) throw new Error(`nobody took the lock of ${key} within 5 s`);
    await sleep(5);
  }
}

async function keysLeft(redis: Redis): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

describe.skipIf(!(await redisAvailable()))('distributed mode (real Redis)', () => {
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    const admin = client();
    const left = await keysLeft(admin);
    if (left.length > 0) await admin.del(...left);
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
  });

  it('runs fn once across three instances; every caller on every instance gets the value', async () => {
    const fleet = [instance(), instance(), instance()];
    let runs = 0;
    const fn = async () => {
      runs++;
      await sleep(200);
      return { at: new Date(0), tags: new Map([['a', 1]]), big: 2n ** 70n };
    };
    const calls = fleet.flatMap((d) => [d.run('k1', fn), d.run('k1', fn), d.run('k1', fn)]);
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    for (const r of results) {
      expect(r.at).toEqual(new Date(0)); // structured clone across instances: types survive
      expect(r.tags.get('a')).toBe(1);
      expect(r.big).toBe(2n ** 70n);
    }
    const stats = fleet.map((d) => d.stats().distributed!);
    expect(stats.reduce((n, s) => n + s.leads, 0)).toBe(1);
    expect(stats.reduce((n, s) => n + s.remoteResults, 0)).toBe(2);
    expect(stats.reduce((n, s) => n + s.fallbacks, 0)).toBe(0);
    expect(fleet.map((d) => d.stats().followers)).toEqual([2, 2, 2]);
    expect(await keysLeft(clients[0]!)).toEqual([]); // the lock was released
  });

  it('does not share a failure: followers on other instances run fn themselves', async () => {
    const [a, b] = [instance(), instance()];
    let runs = 0;
    const pa = a.run('k2', async () => {
      runs++;
      await sleep(150);
      throw new Error('leader failed');
    });
    await lockTaken('k2');
    const pb = b.run('k2', async () => {
      runs++;
      return 'local';
    });
    await expect(pa).rejects.toThrow('leader failed');
    await expect(pb).resolves.toBe('local');
    expect(runs).toBe(2);
    expect(b.stats().distributed?.fallbacks).toBe(1);
  });

  it('takes over when the leader dies (its lock lapses without a result)', async () => {
    const admin = client();
    const b = instance({}, { lockTtlMs: 300 });
    // A "dead" leader: holds the lock, never extends it, never publishes.
    await admin.set(`${PREFIX}fleet:lock:k3`, 'dead-token', 'PX', 300);
    const started = Date.now();
    const value = await b.run('k3', async () => 'taken over');
    expect(value).toBe('taken over');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(b.stats().distributed?.leads).toBe(1);
  });

  it('extends a live leader lock, so a slow leader is not mistaken for a dead one', async () => {
    const [a, b] = [instance({}, { lockTtlMs: 400 }), instance({}, { lockTtlMs: 400 })];
    let runs = 0;
    const fn = async () => {
      runs++;
      await sleep(1000); // several lock lifetimes (extended every ~133 ms)
      return 'slow but alive';
    };
    const pa = a.run('k4', fn);
    await lockTaken('k4');
    const pb = b.run('k4', fn);
    expect(await Promise.all([pa, pb])).toEqual(['slow but alive', 'slow but alive']);
    expect(runs).toBe(1);
  });

  it('runs locally when the wait exceeds waitTimeoutMs', async () => {
    const a = instance();
    const b = instance({}, { waitTimeoutMs: 150 });
    let runs = 0;
    const pa = a.run('k5', async () => {
      runs++;
      await sleep(1000);
      return 'slow';
    });
    await lockTaken('k5');
    const started = Date.now();
    await expect(b.run('k5', async () => 'impatient')).resolves.toBe('impatient');
    expect(Date.now() - started).toBeLessThan(900);
    expect(b.stats().distributed?.fallbacks).toBe(1);
    await expect(pa).resolves.toBe('slow');
    expect(runs).toBe(1);
  });

  it('shares a result too large to publish with nobody: followers run locally', async () => {
    const [a, b] = [instance({}, { maxResultBytes: 1000 }), instance({}, { maxResultBytes: 1000 })];
    const pa = a.run('k6', async () => {
      await sleep(150);
      return 'x'.repeat(5000);
    });
    await lockTaken('k6');
    const pb = b.run('k6', async () => 'mine');
    expect((await pa).length).toBe(5000);
    await expect(pb).resolves.toBe('mine');
  });

  it('refuses a bad distributed option naming the field', () => {
    let caught: unknown;
    try {
      new Deduplicator({ distributed: { redis: {} as never } });
    } catch (error) {
      caught = error;
    }
    expect(isPerfConfigError(caught)).toBe(true);
    expect((caught as { field: string }).field).toBe('distributed.redis');
  });

  it('closes the subscriber connection it created, and leaves yours open', async () => {
    const redis = client();
    const dedup = new Deduplicator({ name: 'fleet', distributed: { redis, prefix: PREFIX } });
    await dedup.run('k7', async () => 1);
    await dedup.close();
    expect(redis.status).toBe('ready');
    await expect(dedup.run('k7', async () => 1)).rejects.toThrow(/closed/);
  });
});

describe.skipIf(!(await redisAvailable()))('distributed mode used before Redis is ready', () => {
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    const admin = client();
    const left = await keysLeft(admin);
    if (left.length > 0) await admin.del(...left);
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
  });

  it('constructed and used at once (lazyConnect clients too): each of 60 keys runs once across three instances', async () => {
    // Many keys, short polls: a follower often re-tries a lock the moment its leader releases it,
    // while the result is still on its way. It must take that result, not run fn again.
    const fleet = [0, 1, 2].map((i) =>
      instance({}, { redis: client(REDIS_URL, { lazyConnect: i === 1 }), pollMs: 5 }),
    );
    const runs = new Map<string, number>();
    // Leaders finish at staggered times, so releases keep meeting the followers' polls.
    const fn = (key: string, i: number) => async () => {
      runs.set(key, (runs.get(key) ?? 0) + 1);
      await sleep(100 + (i % 30) * 3);
      return `value of ${key}`;
    };
    const keys = Array.from({ length: 60 }, (_, i) => `many:${i}`);
    const results = await Promise.all(
      keys.flatMap((key, i) => fleet.map((d) => d.run(key, fn(key, i)).then((v) => [key, v] as const))),
    );
    for (const [key, value] of results) expect(value).toBe(`value of ${key}`);
    expect([...runs.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(runs.size).toBe(60);
    const stats = fleet.map((d) => d.stats().distributed!);
    expect(stats.reduce((n, s) => n + s.leads, 0)).toBe(60);
    expect(stats.reduce((n, s) => n + s.remoteResults, 0)).toBe(120);
    expect(stats.reduce((n, s) => n + s.fallbacks, 0)).toBe(0);
    expect(await keysLeft(clients[0]!)).toEqual([]);
  });

  it('ready() resolves once connected, and a bad connectTimeoutMs is refused naming the field', async () => {
    const dedup = instance();
    await expect(dedup.ready()).resolves.toBeUndefined();
    await expect(new Deduplicator().ready()).resolves.toBeUndefined(); // not distributed: at once
    for (const bad of [0, -1, Number.NaN, '100', 2 ** 31]) {
      let caught: unknown;
      try {
        new Deduplicator({ distributed: { redis: client(), connectTimeoutMs: bad as number } });
      } catch (error) {
        caught = error;
      }
      expect(isPerfConfigError(caught)).toBe(true);
      expect((caught as { field: string }).field).toBe('distributed.connectTimeoutMs');
    }
  });
});

describe.skipIf(!(await redisAvailable()))('distributed mode with Redis unreachable at start', () => {
  const servers: PrivateRedis[] = [];

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((d) => d.close()));
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  /** Three instances on a port where Redis is not running yet; ioredis retries every 50 ms. */
  async function unreachableFleet(distributed: Record<string, unknown> = {}) {
    const server = new PrivateRedis(await freePort());
    servers.push(server);
    const fleet = [0, 1, 2].map(() =>
      instance({}, { redis: client(server.url, { retryStrategy: () => 50 }), ...distributed }),
    );
    return { server, fleet };
  }

  it('calls made before Redis exists wait for it: fn runs once across three instances once it starts', async () => {
    const { server, fleet } = await unreachableFleet();
    let runs = 0;
    const fn = async () => {
      runs++;
      await sleep(200);
      return { at: new Date(0) };
    };
    const started = Date.now();
    const calls = fleet.flatMap((d) => [d.run('late', fn), d.run('late', fn)]);
    await sleep(300);
    expect(runs).toBe(0); // waiting for the first connection, not running locally
    await server.start();
    const results = await Promise.all(calls);
    expect(results).toEqual(Array(6).fill({ at: new Date(0) }));
    expect(runs).toBe(1);
    const stats = fleet.map((d) => d.stats().distributed!);
    expect(stats.reduce((n, s) => n + s.leads, 0)).toBe(1);
    expect(stats.reduce((n, s) => n + s.remoteResults, 0)).toBe(2);
    expect(stats.reduce((n, s) => n + s.fallbacks, 0)).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000); // the default connectTimeoutMs
  });

  it('past connectTimeoutMs without a connection, calls run locally and ready() rejects with PerfTimeoutError; once Redis starts, they deduplicate', async () => {
    const { server, fleet } = await unreachableFleet({ connectTimeoutMs: 300 });
    const [a] = fleet;
    const readyError = await a!.ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isPerfTimeoutError(readyError)).toBe(true);
    expect((readyError as { timeoutMs: number }).timeoutMs).toBe(300);
    const started = Date.now();
    await expect(a!.run('gone', async () => 'local')).resolves.toBe('local'); // deadline passed: at once
    expect(Date.now() - started).toBeLessThan(250);
    expect(a!.stats().distributed?.fallbacks).toBe(1);

    await server.start();
    await Promise.all(fleet.map((d) => d.ready()));
    let runs = 0;
    const fn = async () => {
      runs++;
      await sleep(200);
      return 'shared';
    };
    expect(await Promise.all(fleet.map((d) => d.run('back', fn)))).toEqual(['shared', 'shared', 'shared']);
    expect(runs).toBe(1);
  });
});

describe.skipIf(!(await redisAvailable()))('distributed mode when Redis fails', () => {
  let server: PrivateRedis;
  const startServer = () => server.start();

  afterAll(async () => {
    await Promise.all(instances.splice(0).map((d) => d.close()));
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await server?.kill();
  });

  it('runs locally, without hanging, while Redis is down, and deduplicates again once it is back', async () => {
    server = new PrivateRedis(await freePort());
    await startServer();
    const url = server.url;
    const dedup = new Deduplicator({
      name: 'outage',
      distributed: { redis: client(url), prefix: PREFIX, commandTimeoutMs: 200, pollMs: 50 },
    });
    instances.push(dedup);
    await expect(dedup.run('k', async () => 'up')).resolves.toBe('up');
    expect(dedup.stats().distributed?.leads).toBe(1);

    await server.kill();
    await sleep(100);
    const started = Date.now();
    const results = await Promise.all([
      dedup.run('k', async () => 'down'),
      dedup.run('k', async () => 'down'),
    ]);
    expect(results).toEqual(['down', 'down']); // local dedup still applies
    expect(Date.now() - started).toBeLessThan(3000);
    expect(dedup.stats().distributed?.fallbacks).toBe(1);

    await startServer();
    await sleep(300); // ioredis reconnects
    let lead = false;
    for (let i = 0; i < 40 && !lead; i++) {
      const before = dedup.stats().distributed!.leads;
      await dedup.run('k', async () => 'back');
      lead = dedup.stats().distributed!.leads > before;
      if (!lead) await sleep(100);
    }
    expect(lead).toBe(true);
  });
});
