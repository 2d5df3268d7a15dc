import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { createCache } from '../../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A private redis-server whose ACL refuses PUBLISH to one user: a real failed bus notice whose
// Redis write landed (never on the shared 6379).
describe.skipIf(!(await redisAvailable()))(
  'a bus notice that failed is sent again (private redis-server, integration)',
  () => {
    let server: PrivateRedis;
    let admin: Redis;

    beforeAll(async () => {
      server = new PrivateRedis(await freePort());
      await server.start();
      admin = new Redis(server.url);
      await admin.call('ACL', 'SETUSER', 'writer', 'on', '>pw', '~*', '&*', '+@all', '-publish');
    });

    afterAll(async () => {
      await admin.quit();
      await server.kill();
    });

    it('B keeps its long-lived L1 copy only until A can publish again; then the remembered notice drops it', async () => {
      const namespace = 'notice-replay';
      const port = new URL(server.url).port;
      const a = createCache({ namespace, l3: { redis: `redis://writer:pw@127.0.0.1:${port}` } });
      const b = createCache({ namespace, l3: { redis: server.url } });
      try {
        expect(await a.ready(5_000)).toBe(true);
        expect(await b.ready(5_000)).toBe(true);
        await a.set('k', 'old', { ttlMs: 60_000 }); // its notice fails too; B has no copy yet
        expect(await b.get('k')).toBe('old');
        await sleep(150);
        const hits = b.stats().tiers.l1!.hits;
        expect(await b.get('k')).toBe('old');
        expect(b.stats().tiers.l1!.hits).toBe(hits + 1); // B's copy lives long: the bus is up

        await a.set('k', 'new', { ttlMs: 60_000 }); // SET lands, PUBLISH is refused: remembered
        expect(a.stats().busMessagesSent).toBe(0);
        await admin.call('ACL', 'SETUSER', 'writer', '+publish');
        // Any answered Redis call lets A re-sync, which sends what it could not send before.
        await waitFor(async () => {
          await a.get(`probe:${Math.random()}`);
          return a.stats().busMessagesSent > 0;
        }, 5_000);
        await waitFor(async () => (await b.get('k')) === 'new', 2_000);
      } finally {
        await a.clear();
        await a.close();
        await b.close();
      }
    }, 30_000);
  },
);
