import type { DemoInstance } from './demo-instance.js';
import type { FaultEvent, FaultKind, History } from './history.js';
import { sleep, until } from './ports.js';
import { RedisCluster, type RedisTopology, redisCommand } from './redis-topology.js';
import type { SoakUpstream } from './upstream.js';

/** The faults each topology gets (the Cluster ones need replicas). */
export const FAULTS_BY_TOPOLOGY: Record<RedisTopology['kind'], readonly FaultKind[]> = {
  single: [
    'redis-kill-restart',
    'redis-debug-sleep',
    'redis-client-pause',
    'instance-kill-restart',
    'upstream-down',
    'upstream-slow',
  ],
  cluster: [
    'redis-kill-restart',
    'redis-debug-sleep',
    'redis-client-pause',
    'cluster-failover',
    'cluster-master-kill',
    'instance-kill-restart',
    'upstream-down',
    'upstream-slow',
  ],
};

/** How long each fault keeps its target down or stalled. */
export const FAULT_TIMING = {
  redisDownMs: 1_000,
  stallMs: 1_500,
  upstreamDownMs: 6_000,
  upstreamSlowMs: 3_000,
};

/** Roughly how long a fault takes from injection to recovery, for fitting the schedule. */
const ESTIMATE_MS: Record<FaultKind, number> = {
  'redis-kill-restart': 2_500,
  'redis-debug-sleep': 2_000,
  'redis-client-pause': 2_000,
  'cluster-failover': 3_000,
  'cluster-master-kill': 8_000,
  'instance-kill-restart': 6_000,
  'upstream-down': FAULT_TIMING.upstreamDownMs,
  'upstream-slow': FAULT_TIMING.upstreamSlowMs,
};

/** Seeded order: every kind once (shuffled), then again, as long as the run lasts. */
export function faultOrder(kinds: readonly FaultKind[], random: () => number, rounds: number): FaultKind[] {
  const order: FaultKind[] = [];
  for (let r = 0; r < rounds; r++) {
    const round = [...kinds];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    order.push(...round);
  }
  return order;
}

export interface FaultContext {
  readonly topology: RedisTopology;
  readonly instances: readonly DemoInstance[];
  readonly upstream: SoakUpstream;
  readonly history: History;
  readonly clock: () => number;
  readonly random: () => number;
}

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

/**
 * Injects the faults in order until `until` (ms on the run clock), one at a time, each followed by
 * `gapMs`; a fault that would not finish before `until` is skipped for a shorter one that would.
 */
export async function runFaults(
  ctx: FaultContext,
  order: readonly FaultKind[],
  window: { until: number; gapMs: number },
  aborted: () => boolean,
): Promise<void> {
  for (const kind of order) {
    if (aborted() || ctx.clock() > window.until) return;
    if (ctx.clock() + ESTIMATE_MS[kind] > window.until) continue;
    await inject(ctx, kind);
    await sleep(window.gapMs);
  }
}

/** Injects one fault, records it, and returns once its target has recovered. */
export async function inject(ctx: FaultContext, kind: FaultKind): Promise<FaultEvent> {
  const { topology, random } = ctx;
  const record = (target: string): FaultEvent => {
    const event: FaultEvent = { kind, start: ctx.clock(), end: Number.POSITIVE_INFINITY, target };
    ctx.history.faults.push(event);
    return event;
  };
  const done = (event: FaultEvent) => {
    event.end = ctx.clock();
    return event;
  };
  const cluster = topology instanceof RedisCluster ? topology : undefined;
  const nodesOf = async (role: 'master' | 'slave') =>
    cluster === undefined
      ? topology.servers.map((s) => s.port)
      : (await cluster.nodes()).filter((n) => n.role === role).map((n) => n.port);
  const serverOn = (port: number) => topology.servers.find((s) => s.port === port)!;

  switch (kind) {
    case 'redis-kill-restart': {
      const server = pick(topology.servers, random);
      const event = record(`redis ${server.port}`);
      await server.kill();
      await sleep(FAULT_TIMING.redisDownMs);
      await server.start();
      await topology.healthy(30_000);
      return done(event);
    }
    case 'redis-debug-sleep': {
      const port = pick(await nodesOf('master'), random);
      const event = record(`redis ${port}`);
      await redisCommand(
        port,
        ['DEBUG', 'SLEEP', String(FAULT_TIMING.stallMs / 1000)],
        FAULT_TIMING.stallMs + 5_000,
      );
      await topology.healthy(30_000);
      return done(event);
    }
    case 'redis-client-pause': {
      const port = pick(await nodesOf('master'), random);
      const event = record(`redis ${port}`);
      await redisCommand(port, ['CLIENT', 'PAUSE', String(FAULT_TIMING.stallMs), 'ALL']);
      await sleep(FAULT_TIMING.stallMs);
      await topology.healthy(30_000);
      return done(event);
    }
    case 'cluster-failover': {
      if (cluster === undefined) throw new Error('cluster-failover needs the Cluster topology');
      const port = pick(await nodesOf('slave'), random);
      const event = record(`redis ${port} (replica)`);
      await redisCommand(port, ['CLUSTER', 'FAILOVER']);
      await until(
        `replica ${port} promoted`,
        async () => (await cluster.nodes()).some((n) => n.port === port && n.role === 'master'),
        15_000,
        50,
      );
      await cluster.healthy(30_000);
      return done(event);
    }
    case 'cluster-master-kill': {
      if (cluster === undefined) throw new Error('cluster-master-kill needs the Cluster topology');
      const port = pick(await nodesOf('master'), random);
      const event = record(`redis ${port} (master)`);
      await serverOn(port).kill();
      // Its replica takes over after the node timeout; then the old master rejoins as a replica.
      await until(
        `a replica of ${port} promoted`,
        async () => (await cluster.nodes()).filter((n) => n.role === 'master' && !n.failed).length === 3,
        30_000,
        100,
      );
      await serverOn(port).start();
      await cluster.healthy(30_000);
      return done(event);
    }
    case 'instance-kill-restart': {
      const instance = pick(ctx.instances, random);
      const event = record(`demo instance ${instance.index}`);
      instance.up = false; // the load stops picking it before the signal goes out
      const kill: { instance: number; at: number; restartedAt?: number } = {
        instance: instance.index,
        at: ctx.clock(),
      };
      ctx.history.kills.push(kill);
      await instance.kill();
      await instance.start();
      kill.restartedAt = ctx.clock();
      return done(event);
    }
    case 'upstream-down':
    case 'upstream-slow': {
      const event = record('assistant upstream');
      ctx.upstream.mode = kind === 'upstream-down' ? 'down' : 'slow';
      await sleep(kind === 'upstream-down' ? FAULT_TIMING.upstreamDownMs : FAULT_TIMING.upstreamSlowMs);
      ctx.upstream.mode = 'up';
      return done(event);
    }
  }
}
