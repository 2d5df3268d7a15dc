import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pingRedis } from '../../../tooling/redis.js';
import { RedisCluster, redisCommand, SingleRedis } from '../src/redis-topology.js';

describe('private Redis topologies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'soak-topology-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts a single private server on a spare port and removes it', async () => {
    const single = new SingleRedis();
    await single.start();
    const port = single.servers[0]!.port;
    expect(port).not.toBe(6379);
    expect(single.env().REDIS_URL).toBe(`redis://127.0.0.1:${port}`);
    expect(await redisCommand(port, ['PING'])).toBe('PONG');
    await single.stop();
    expect(await pingRedis(port)).toBe(false);
  });

  it('creates a 3 master + 3 replica cluster, fails a replica over, and removes it', async () => {
    const cluster = new RedisCluster(dir);
    try {
      await cluster.start();
      const nodes = await cluster.nodes();
      expect(nodes.filter((n) => n.role === 'master')).toHaveLength(3);
      expect(nodes.filter((n) => n.role === 'slave')).toHaveLength(3);
      const replica = nodes.find((n) => n.role === 'slave')!;
      expect(await redisCommand(replica.port, ['CLUSTER', 'FAILOVER'])).toBe('OK');
      await cluster.healthy();
      await expect
        .poll(async () => (await cluster.nodes()).find((n) => n.port === replica.port)?.role, {
          timeout: 10_000,
        })
        .toBe('master');
    } finally {
      await cluster.stop();
    }
    for (const s of cluster.servers) expect(await pingRedis(s.port)).toBe(false);
  }, 60_000);
});
