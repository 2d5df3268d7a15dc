import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { dedupPrefix } from '../src/chat-service.js';
import { configFromEnv } from '../src/config.js';
import { createDemoRedis } from '../src/redis-client.js';

describe('Redis client from the configuration', () => {
  it('builds a Cluster on the REDIS_CLUSTER_NODES seed nodes', async () => {
    const config = configFromEnv({
      REDIS_URL: 'redis://127.0.0.1:7000',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001,localhost:7002',
    });
    const client = createDemoRedis(config);
    try {
      expect(client).toBeInstanceOf(Cluster);
      const cluster = client as Cluster;
      // startupNodes is private in the typings; it is what ioredis connects to first
      expect((cluster as unknown as { startupNodes: unknown }).startupNodes).toEqual([
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
        { host: 'localhost', port: 7002 },
      ]);
      expect(cluster.options.enableOfflineQueue).toBe(true);
      expect(cluster.options.redisOptions?.maxRetriesPerRequest).toBe(2);
      expect(cluster.options.clusterRetryStrategy?.(3, new Error('down'))).toBe(150);
      // error events are swallowed (the packages handle outages), so nothing is unhandled here
      expect(cluster.listenerCount('error')).toBe(1);
    } finally {
      client?.disconnect();
    }
  });

  it('builds one plain client on REDIS_URL without a node list, none without either', async () => {
    const client = createDemoRedis(configFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379' }));
    try {
      expect(client).toBeInstanceOf(Redis);
      expect(client).not.toBeInstanceOf(Cluster);
      await expect((client as Redis).ping()).resolves.toBe('PONG');
    } finally {
      client?.disconnect();
    }
    expect(createDemoRedis(configFromEnv({}))).toBeUndefined();
  });

  it('hash-tags the reply dedup prefix on a Cluster only (test/e2e/redis-cluster.test.ts proves the slot)', () => {
    const cluster = createDemoRedis(configFromEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }))!;
    const single = createDemoRedis(configFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379' }))!;
    try {
      const prefix = dedupPrefix(cluster, 'demo-chat');
      expect(prefix).toBe('{demo-chat:dedup}:');
      expect(dedupPrefix(single, 'demo-chat')).toBe('demo-chat:dedup:');
    } finally {
      cluster.disconnect();
      single.disconnect();
    }
  });

  it('refuses a malformed node list, naming REDIS_CLUSTER_NODES', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:7000,', 'a:1,,b:2', '127.0.0.1:99999', 'host:port', ' , ']) {
      expect(() => configFromEnv({ REDIS_CLUSTER_NODES: bad }), bad).toThrow(/^REDIS_CLUSTER_NODES: /);
    }
  });
});
