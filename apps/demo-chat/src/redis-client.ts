/**
 * The demo's one Redis connection, shared by the caches, dedup and breaker sharing: a plain client
 * on `redisUrl`, or an ioredis `Cluster` when `redisClusterNodes` is set (one plain client against a
 * Cluster gets MOVED for every key on another master).
 */
import { Cluster, Redis } from 'ioredis';
import { type DemoConfig, parseNodeList } from './config.js';

export type DemoRedis = Redis | Cluster;

// Reconnect quickly after an outage; a command waits through at most two reconnects.
const retry = (times: number) => Math.min(50 * times, 500);

export function createDemoRedis(
  config: Pick<DemoConfig, 'redisUrl' | 'redisClusterNodes'>,
): DemoRedis | undefined {
  let client: DemoRedis | undefined;
  if (config.redisClusterNodes) {
    client = new Cluster(parseNodeList(config.redisClusterNodes), {
      enableOfflineQueue: true,
      clusterRetryStrategy: retry,
      // A failover or a killed master: retry on the new owner soon, not after ioredis' default waits.
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      retryDelayOnTryAgain: 50,
      redisOptions: { maxRetriesPerRequest: 2 },
    });
  } else if (config.redisUrl) {
    client = new Redis(config.redisUrl, { retryStrategy: retry, maxRetriesPerRequest: 2 });
  }
  // Outages are handled by each package; ioredis would print every retry.
  client?.on('error', () => {});
  return client;
}
