import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { PrivateRedis, pingRedis } from '../../../tooling/redis.js';
import { freePorts, until } from './ports.js';

export type TopologyKind = 'single' | 'cluster';

/** Flags every private server gets: no persistence, DEBUG allowed (only ever on these servers). */
const BASE_ARGS = ['--enable-debug-command', 'yes', '--protected-mode', 'yes'];

/**
 * Runs one command on a private server over a fresh connection that never retries or queues, so a
 * dead or paused server answers with an error instead of hanging the harness.
 */
export async function redisCommand(
  port: number,
  args: (string | number)[],
  timeoutMs = 5_000,
): Promise<unknown> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const [name, ...rest] = args;
    return await client.call(String(name), ...rest);
  } finally {
    client.disconnect();
  }
}

export interface RedisTopology {
  readonly kind: TopologyKind;
  readonly servers: readonly PrivateRedis[];
  /** Environment for a demo instance (REDIS_URL, and the node list for a Cluster). */
  env(): Record<string, string>;
  start(): Promise<void>;
  /** Waits until every server answers and (Cluster) every slot is served. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** Connected clients over every server that answers, less the probe's own connection. */
  connections(): Promise<number>;
}

async function connectedClients(port: number): Promise<number | undefined> {
  try {
    const info = String(await redisCommand(port, ['INFO', 'clients'], 1_000));
    const match = /connected_clients:(\d+)/.exec(info);
    return match ? Number(match[1]) - 1 : undefined;
  } catch {
    return undefined;
  }
}

/** One private redis-server on a spare port. */
export class SingleRedis implements RedisTopology {
  readonly kind = 'single' as const;
  servers: PrivateRedis[] = [];

  env(): Record<string, string> {
    return { REDIS_URL: this.servers[0]!.url };
  }

  async start(): Promise<void> {
    const [port] = await freePorts(1);
    this.servers = [new PrivateRedis(port!, BASE_ARGS)];
    await this.servers[0]!.start();
  }

  async healthy(timeoutMs = 10_000): Promise<void> {
    await until('Redis answers', () => pingRedis(this.servers[0]!.port), timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  async connections(): Promise<number> {
    return (await connectedClients(this.servers[0]!.port)) ?? 0;
  }
}

export interface ClusterNodeInfo {
  readonly port: number;
  readonly role: 'master' | 'slave';
  readonly failed: boolean;
}

/**
 * A private Redis Cluster, 3 masters + 3 replicas, on spare ports (cluster bus ports chosen
 * separately), its node files in `dir`, created with `redis-cli --cluster create`.
 */
export class RedisCluster implements RedisTopology {
  readonly kind = 'cluster' as const;
  servers: PrivateRedis[] = [];
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  env(): Record<string, string> {
    const nodes = this.servers.map((s) => `127.0.0.1:${s.port}`).join(',');
    return { REDIS_URL: this.servers[0]!.url, REDIS_CLUSTER_NODES: nodes };
  }

  async start(): Promise<void> {
    const ports = await freePorts(12);
    this.servers = ports
      .slice(0, 6)
      .map(
        (port, i) =>
          new PrivateRedis(port, [
            ...BASE_ARGS,
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(ports[6 + i]),
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
            '--dir',
            this.#dir,
          ]),
      );
    await Promise.all(this.servers.map((s) => s.start()));
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...this.servers.map((s) => `127.0.0.1:${s.port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited ${code}: ${output}`)),
      );
    });
    await this.healthy(30_000);
  }

  /** Each live node's view of itself, from CLUSTER NODES on the node. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    const out: ClusterNodeInfo[] = [];
    for (const server of this.servers) {
      try {
        const text = String(await redisCommand(server.port, ['CLUSTER', 'NODES'], 1_000));
        const self = text.split('\n').find((line) => line.includes('myself'));
        if (self === undefined) continue;
        const flags = self.split(' ')[2] ?? '';
        out.push({
          port: server.port,
          role: flags.includes('master') ? 'master' : 'slave',
          failed: flags.includes('fail'),
        });
      } catch {
        // down: not listed
      }
    }
    return out;
  }

  async healthy(timeoutMs = 20_000): Promise<void> {
    await until(
      'Redis Cluster healthy (6 nodes, 3 masters, all slots ok, replicas in sync)',
      async () => {
        let masters = 0;
        for (const server of this.servers) {
          const info = String(await redisCommand(server.port, ['CLUSTER', 'INFO'], 1_000));
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
          const nodes = String(await redisCommand(server.port, ['CLUSTER', 'NODES'], 1_000));
          const self = nodes.split('\n').find((l) => l.includes('myself')) ?? '';
          if (self.split(' ')[2]?.includes('master')) masters++;
          else {
            // A replica that has not synced yet cannot take a manual failover.
            const replication = String(await redisCommand(server.port, ['INFO', 'replication'], 1_000));
            if (!replication.includes('master_link_status:up')) return false;
          }
        }
        return masters === 3;
      },
      timeoutMs,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill()));
  }

  async connections(): Promise<number> {
    let total = 0;
    for (const server of this.servers) total += (await connectedClients(server.port)) ?? 0;
    return total;
  }
}
