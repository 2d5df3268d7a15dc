import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis, redisAvailable, waitFor } from '../../../../tooling/redis.js';
import { createCache, type TieredCache } from '../../src/index.js';

// A private three-master Redis Cluster on ports 6391-6393 (ours), built and killed by this file.
const PORTS = [6391, 6392, 6393];

describe.skipIf(!(await redisAvailable()))(
  'Redis Cluster client (private 3-master cluster, integration)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'perf-cache-cluster-'));
    const servers = PORTS.map(
      (port) =>
        new PrivateRedis(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '2000',
        ]),
    );
    const clients: Cluster[] = [];
    const caches: TieredCache[] = [];

    function cluster(): Cluster {
      const c = new Cluster(PORTS.map((port) => ({ host: '127.0.0.1', port })));
      clients.push(c);
      return c;
    }

    beforeAll(async () => {
      await Promise.all(servers.map((s) => s.start()));
      execFileSync(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...PORTS.map((p) => `127.0.0.1:${p}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { stdio: 'ignore', timeout: 20_000 },
      );
      await waitFor(() => {
        const info = execFileSync('redis-cli', ['-p', String(PORTS[0]), 'cluster', 'info'], {
          encoding: 'utf8',
        });
        return info.includes('cluster_state:ok');
      }, 15_000);
    }, 60_000);

    afterAll(async () => {
      for (const c of caches) await c.close();
      for (const c of clients) c.disconnect();
      await Promise.all(servers.map((s) => s.kill()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads, writes, batches, tags, prefixes, locks and the bus work through a Cluster', async () => {
      const namespace = 'perf-test:cache:cluster';
      const a = createCache({ namespace, l3: { redis: cluster() } });
      const b = createCache({ namespace, l3: { redis: cluster() }, l2: false });
      caches.push(a, b);
      expect(await a.ready(10_000)).toBe(true);
      expect(await b.ready(10_000)).toBe(true);

      // keys spread over all three masters
      await a.warm(
        Array.from({ length: 60 }, (_, i) => ({ key: `user:${i}`, value: { i }, tags: [`t${i % 3}`] })),
      );
      const read = await Promise.all(Array.from({ length: 60 }, (_, i) => b.get<{ i: number }>(`user:${i}`)));
      expect(read.map((v) => v?.i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(b.stats().tiers.l3?.hits).toBe(60);

      await a.invalidateTags(['t1']);
      await waitFor(async () => (await b.get('user:1')) === undefined, 1_000);
      expect(await b.get('user:3')).toEqual({ i: 3 });

      await a.delete('user:0');
      await waitFor(async () => (await b.get('user:0')) === undefined, 1_000);

      let runs = 0;
      const values = await Promise.all(
        [a, b].flatMap((c) =>
          Array.from({ length: 20 }, () =>
            c.getOrSet(
              'locked',
              async () => {
                runs++;
                await new Promise((r) => setTimeout(r, 50));
                return 'once';
              },
              { lock: true },
            ),
          ),
        ),
      );
      expect(values.every((v) => v === 'once')).toBe(true);
      expect(runs).toBe(1);

      // an instance with no local tiers sees exactly what the masters hold
      const direct = createCache({ namespace, l1: false, l2: false, bus: false, l3: { redis: cluster() } });
      caches.push(direct);
      expect(await direct.ready(10_000)).toBe(true);
      expect(await direct.get('user:3')).toEqual({ i: 3 });
      await a.deleteByPrefix('user:'); // SCAN + UNLINK on every master
      expect(await direct.get('user:3')).toBeUndefined();
      expect(await direct.get('user:59')).toBeUndefined();
      await waitFor(async () => (await b.get('user:3')) === undefined, 1_000);
      expect(await direct.get('locked')).toBe('once');
      await a.clear();
      expect(await direct.get('locked')).toBeUndefined();
      expect(a.stats().tiers.l3?.errors).toBe(0);
      expect(b.stats().tiers.l3?.errors).toBe(0);
    }, 60_000);
  },
);
