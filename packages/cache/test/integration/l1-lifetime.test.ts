import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { type CreateCacheOptions, createCache, type TieredCache } from '../../src/index.js';

/** The documented short L1 lifetime (the staleness bound while the bus is down). */
const SHORT_MS = 100;
/** Scheduling slack on a loaded 2-core machine; the bound under test is SHORT_MS. */
const SLACK_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A private redis-server: the test kills pub/sub connections on it (never on the shared 6379).
describe.skipIf(!(await redisAvailable()))(
  'L1 lifetime follows the bus (private redis-server, integration)',
  () => {
    let server: PrivateRedis;
    let admin: Redis;
    const open: TieredCache[] = [];
    let seq = 0;

    function make(options: Partial<CreateCacheOptions> & { namespace: string }): TieredCache {
      const cache = createCache({ l3: { redis: server.url }, ...options });
      open.push(cache);
      return cache;
    }

    beforeAll(async () => {
      server = new PrivateRedis(await freePort());
      await server.start();
      admin = new Redis(server.url);
    });

    afterEach(async () => {
      for (const c of open.splice(0)) await c.close();
    });

    afterAll(async () => {
      await admin.quit();
      await server.kill();
    });

    it('with the bus subscribed, an L1 copy lives its TTL (not 100 ms); an invalidation on A reaches B within 100 ms', async () => {
      const namespace = `l1-life-${++seq}`;
      const a = make({ namespace });
      const b = make({ namespace });
      expect(await b.ready(5_000)).toBe(true);
      const heard = b.stats().busMessagesReceived;
      await a.set('k', 'v1', { ttlMs: 60_000 });
      await waitFor(() => b.stats().busMessagesReceived > heard, 2_000); // B dropped its (absent) copy
      expect(await b.get('k')).toBe('v1'); // from L3, now in B's L1
      await sleep(300);
      const before = b.stats().tiers.l1!.hits;
      expect(await b.get('k')).toBe('v1');
      expect(b.stats().tiers.l1!.hits).toBe(before + 1); // still an L1 hit 300 ms later

      const changed = Date.now();
      await a.set('k', 'v2', { ttlMs: 60_000 });
      const took = await waitFor(async () => (await b.get('k')) === 'v2', 2_000);
      expect(Date.now() - changed).toBeLessThan(SHORT_MS + SLACK_MS);
      expect(took).toBeLessThan(SHORT_MS + SLACK_MS);
    });

    it('B’s subscriber killed on the Redis side (CLIENT KILL TYPE pubsub): B never serves a copy older than the short lifetime after an invalidation it missed', async () => {
      const namespace = `l1-life-${++seq}`;
      const a = make({ namespace, bus: false }); // writes without listening
      const b = make({ namespace });
      expect(await b.ready(5_000)).toBe(true);
      await a.set('k', 'old', { ttlMs: 60_000 });
      expect(await b.get('k')).toBe('old');
      await sleep(200);
      const hits = b.stats().tiers.l1!.hits;
      expect(await b.get('k')).toBe('old');
      expect(b.stats().tiers.l1!.hits).toBe(hits + 1); // long-lived L1 copy while the bus is up

      for (let round = 0; round < 3; round++) {
        expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBeGreaterThan(0);
        // A changes the value without B hearing of it (a's bus is off; b's subscriber is gone anyway).
        const value = `new-${round}`;
        await a.set('k', value, { ttlMs: 60_000 });
        const changedAt = Date.now();
        // Poll B: an old copy may be served only within the short lifetime after the change.
        for (;;) {
          const seen = await b.get('k');
          const age = Date.now() - changedAt;
          if (seen === value) break;
          expect(age).toBeLessThan(SHORT_MS + SLACK_MS);
          await sleep(5);
        }
        // While down (or just re-subscribed), copies are short-lived: a bus-less write shows up within the bound.
        await waitFor(async () => (await b.ready(100)) === true, 5_000);
      }
      // Subscribed again: L1 copies live long again.
      await waitFor(async () => {
        await b.get('k');
        await sleep(SHORT_MS + 50);
        const h = b.stats().tiers.l1!.hits;
        await b.get('k');
        return b.stats().tiers.l1!.hits === h + 1;
      }, 5_000);
    }, 30_000);

    it('bus: false keeps the short L1 lifetime by default (no invalidation channel)', async () => {
      const namespace = `l1-life-${++seq}`;
      const a = make({ namespace, bus: false });
      const b = make({ namespace, bus: false });
      await a.set('k', 'v1', { ttlMs: 60_000 });
      expect(await b.get('k')).toBe('v1');
      await a.set('k', 'v2', { ttlMs: 60_000 });
      const changedAt = Date.now();
      for (;;) {
        const seen = await b.get('k');
        if (seen === 'v2') break;
        expect(Date.now() - changedAt).toBeLessThan(SHORT_MS + SLACK_MS);
        await sleep(5);
      }
    });

    it('an in-process L2 (opt-in) with bus: false keeps copies only the short lifetime too', async () => {
      const namespace = `l1-life-${++seq}`;
      const a = make({ namespace, bus: false });
      const b = make({ namespace, bus: false, l2: {} });
      await a.set('k', 'v1', { ttlMs: 60_000 });
      expect(await b.get('k')).toBe('v1');
      await a.set('k', 'v2', { ttlMs: 60_000 });
      const changedAt = Date.now();
      for (;;) {
        const seen = await b.get('k');
        if (seen === 'v2') break;
        expect(Date.now() - changedAt).toBeLessThan(SHORT_MS + SLACK_MS);
        await sleep(5);
      }
    });

    it('an in-process L2 (opt-in) follows the same rule: dropped when the subscription is lost', async () => {
      const namespace = `l1-life-${++seq}`;
      const a = make({ namespace, bus: false });
      const b = make({ namespace, l2: {} });
      expect(await b.ready(5_000)).toBe(true);
      await a.set('k', 'old', { ttlMs: 60_000 });
      expect(await b.get('k')).toBe('old'); // in B's L1 and L2
      await sleep(200);
      const hits = b.stats().tiers.l1!.hits;
      expect(await b.get('k')).toBe('old');
      expect(b.stats().tiers.l1!.hits).toBe(hits + 1); // L1 keeps it while the bus is up, L2 behind it
      await admin.client('KILL', 'TYPE', 'pubsub');
      await a.set('k', 'new', { ttlMs: 60_000 });
      const changedAt = Date.now();
      for (;;) {
        const seen = await b.get('k');
        if (seen === 'new') break;
        expect(Date.now() - changedAt).toBeLessThan(SHORT_MS + SLACK_MS);
        await sleep(5);
      }
    });
  },
);
