/**
 * Two demos on a private Redis Cluster (3 masters + 3 replicas on spare ports, started by the soak's
 * topology helper): the caches spread their keys over the masters and the reply dedup coalesces
 * across the two instances (one run, the follower answered by the leader's result, not by its lock
 * running out).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCluster } from '../../../soak/src/redis-topology.js';
import { type Demo, startDemo } from '../../src/demo-app.js';

describe('the demo on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-cluster-'));
  const topology = new RedisCluster(dir);
  const prefix = `demo-cluster-e2e-${process.pid}`;
  const demos: Demo[] = [];

  beforeAll(async () => {
    await topology.start();
    await topology.healthy();
    const nodes = topology.env().REDIS_CLUSTER_NODES!;
    for (let i = 0; i < 2; i++) {
      demos.push(
        await startDemo({
          port: 0,
          redisClusterNodes: nodes,
          redisPrefix: prefix,
          seedConversations: 30,
          seedUsers: 5,
          requestLogging: false,
          logLevel: 'silent',
        }),
      );
    }
    await Promise.all(demos.map((d) => d.ready));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(demos.map((d) => d.close()));
    await topology.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('warms the history cache into keys on more than one master', async () => {
    const probe = new Cluster(
      topology
        .env()
        .REDIS_CLUSTER_NODES!.split(',')
        .map((n) => {
          const [host, port] = n.split(':');
          return { host: host!, port: Number(port) };
        }),
    );
    probe.on('error', () => {});
    try {
      await probe.ping();
      const perMaster = await Promise.all(
        probe.nodes('master').map(async (node) => {
          const [, keys] = await node.scan('0', 'MATCH', `*${prefix}*`, 'COUNT', 10_000);
          return keys.length;
        }),
      );
      expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1);
      const res = await fetch(`${demos[1]!.url}/api/conversations`, { headers: { 'x-user-id': 'user-1' } });
      expect(res.status).toBe(200);
    } finally {
      probe.disconnect();
    }
  });

  it('coalesces one reply key across both instances: one run, the follower gets its result', async () => {
    const [a, b] = demos.map((d) => d.service()!);
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 300));
      return 'answer';
    };
    const key = `cluster-e2e|reply|${Date.now()}`;
    const leader = a!.replyDedup.run(key, work);
    // let the leader take the lock first
    for (let i = 0; i < 100 && (a!.replyDedup.stats().distributed?.leads ?? 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const startedAt = Date.now();
    const follower = b!.replyDedup.run(key, work);
    await expect(Promise.all([leader, follower])).resolves.toEqual(['answer', 'answer']);
    expect(runs).toBe(1);
    expect(b!.replyDedup.stats().distributed?.remoteResults).toBe(1);
    // answered by the leader's release message, not by waiting out its lock
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });
});
