import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { createCache, type TieredCache } from '../../src/index.js';

/** The default `l3.commandTimeoutMs`: the most Redis faults may add to any cache call. */
const DEADLINE_MS = 500;
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 250;

// A private redis-server that the test stalls with DEBUG SLEEP and CLIENT PAUSE (never the shared 6379).
describe.skipIf(!(await redisAvailable()))(
  'one Redis deadline per call (private redis-server, integration)',
  () => {
    let server: PrivateRedis;
    const open: TieredCache[] = [];
    const admins: Redis[] = [];
    let seq = 0;

    beforeAll(async () => {
      server = new PrivateRedis(await freePort(), ['--enable-debug-command', 'yes']);
      await server.start();
    });

    afterEach(async () => {
      for (const c of open.splice(0)) await c.close();
      for (const a of admins.splice(0)) a.disconnect();
    });

    afterAll(async () => {
      await server.kill();
    });

    function admin(): Redis {
      const client = new Redis(server.url);
      admins.push(client);
      return client;
    }

    async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
      const start = performance.now();
      const value = await fn();
      return { value, ms: performance.now() - start };
    }

    for (const stall of ['DEBUG SLEEP', 'CLIENT PAUSE'] as const) {
      it(`${stall}: every getOrSet miss and set adds at most one commandTimeoutMs; what missed Redis lands afterwards`, async () => {
        const namespace = `one-deadline-${++seq}`;
        const cache = createCache({ namespace, l3: { redis: server.url } });
        open.push(cache);
        const reader = createCache({
          namespace,
          l1: false,
          l2: false,
          bus: false,
          l3: { redis: server.url },
        });
        open.push(reader);
        expect(await cache.ready(5_000)).toBe(true);
        expect(await reader.ready(5_000)).toBe(true);
        await cache.set('warm', 1); // connections are established and used

        const stalled = admin();
        await stalled.ping();
        const stallMs = 2_500;
        const stalling =
          stall === 'DEBUG SLEEP'
            ? stalled.call('DEBUG', 'SLEEP', String(stallMs / 1000)).catch(() => undefined)
            : stalled.call('CLIENT', 'PAUSE', String(stallMs), 'ALL').catch(() => undefined);
        if (stall === 'CLIENT PAUSE')
          await stalling; // the pause starts once acknowledged
        else await new Promise((r) => setTimeout(r, 20)); // the sleep has started
        const stalledAt = Date.now();

        const latencies: number[] = [];
        for (let i = 0; i < 5; i++) {
          const call = await timed(() => cache.getOrSet(`miss:${i}`, () => `value-${i}`, { ttlMs: 60_000 }));
          expect(call.value).toBe(`value-${i}`);
          latencies.push(call.ms);
        }
        const write = await timed(() => cache.set('written', 'during-stall', { ttlMs: 60_000 }));
        latencies.push(write.ms);
        const worst = Math.max(...latencies);
        console.log(
          `${stall} ${stallMs} ms: call latencies ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`,
        );
        expect(Date.now() - stalledAt).toBeLessThan(stallMs); // all measured during the stall
        expect(worst).toBeLessThan(DEADLINE_MS + SLACK_MS);
        // The first timeout marked Redis unhealthy at once: the next calls did not wait for it.
        expect(latencies.slice(1).every((ms) => ms < DEADLINE_MS / 2)).toBe(true);

        await stalling;
        // Once Redis answers, the factory values and the write that missed it are replayed.
        await waitFor(async () => (await reader.get('written')) === 'during-stall', 10_000);
        for (let i = 0; i < 5; i++) {
          await waitFor(async () => (await reader.get(`miss:${i}`)) === `value-${i}`, 5_000);
        }
        await cache.clear();
      }, 30_000);
    }
  },
);
