import { randomBytes } from 'node:crypto';
import { isPerfConfigError } from '@perf/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PrivateRedis, REDIS_URL, redisAvailable } from '../../../../tooling/redis.js';
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
    await sleep(30);
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
    await sleep(30);
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
    await sleep(30);
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
    await sleep(30);
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

describe.skipIf(!(await redisAvailable()))('distributed mode when Redis fails', () => {
  const PORT = 6400;
  const server = new PrivateRedis(PORT);
  const startServer = () => server.start();

  afterAll(async () => {
    await Promise.all(instances.splice(0).map((d) => d.close()));
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await server.kill();
  });

  it('runs locally, without hanging, while Redis is down, and deduplicates again once it is back', async () => {
    await startServer();
    const url = `redis://127.0.0.1:${PORT}`;
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
