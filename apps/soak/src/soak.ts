import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../../../tooling/workloads.js';
import { type CheckOptions, check, defaultCheckOptions, emptyCoverage, type Violation } from './checker.js';
import { ThrowawayDatabase } from './database.js';
import { DemoInstance } from './demo-instance.js';
import { FAULTS_BY_TOPOLOGY, faultOrder, runFaults } from './faults.js';
import { emptyHistory, type FaultKind, type History } from './history.js';
import { defaultLoadOptions, LoadDriver, type LoadOptions } from './load.js';
import { freePorts, sleep } from './ports.js';
import { RedisCluster, type RedisTopology, SingleRedis, type TopologyKind } from './redis-topology.js';
import { type SoakSummary, summarize } from './report.js';
import { Sampler } from './sampler.js';
import { SoakUpstream } from './upstream.js';

export interface SoakConfig {
  readonly topology: TopologyKind;
  readonly durationMs: number;
  readonly seed: number;
  readonly instances: number;
  /** argv starting one demo server; run in `cwd` with PORT, DATABASE_URL, REDIS_URL, ... set. */
  readonly demoCommand: readonly string[];
  readonly cwd: string;
  /** Extra environment for every demo instance. */
  readonly demoEnv?: Readonly<Record<string, string>>;
  /** Where instance logs and the history go; a temp dir (removed unless `keepLogs`) by default. */
  readonly logDir?: string;
  readonly keepLogs?: boolean;
  /** Fault kinds to inject (default: all for the topology). */
  readonly faults?: readonly FaultKind[];
  readonly load?: Partial<LoadOptions>;
  readonly check?: Partial<CheckOptions>;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Filled in as the run creates things (for tests proving it removed them all). */
  readonly inventory?: SoakInventory;
}

export interface SoakInventory {
  database?: string;
  redisPorts: number[];
  /** Every demo process group leader it started, restarts included. */
  pids: number[];
  dirs: string[];
}

export interface SoakResult {
  readonly config: SoakConfig;
  readonly history: History;
  readonly violations: Violation[];
  readonly summary: SoakSummary;
  /** What PostgreSQL held after the run (message id -> conversation id). */
  readonly stored: ReadonlyMap<string, string>;
  readonly upstreamCalls: number;
  readonly logDir: string;
}

/** Phase lengths: a fault-free warm-up, the faults, and a quiet tail in which everything must recover. */
export function phasePlan(durationMs: number, recoverMs: number): { warmupMs: number; faultsUntil: number } {
  const warmupMs = Math.min(10_000, Math.max(3_000, durationMs * 0.05));
  const tailMs = Math.max(recoverMs + 4_000, durationMs * 0.15);
  return { warmupMs, faultsUntil: Math.max(warmupMs, durationMs - tailMs) };
}

/**
 * One soak run: a throw-away database, a private Redis topology, the shared upstream, N demo
 * processes, seeded load and faults for `durationMs`, then the checker over the recorded history.
 * Everything it started is stopped and removed before it returns or throws.
 */
export async function runSoak(config: SoakConfig): Promise<SoakResult> {
  const log = config.log ?? (() => {});
  const base = config.logDir ?? mkdtempSync(join(tmpdir(), 'perf-soak-'));
  mkdirSync(base, { recursive: true });
  const redisDir = mkdtempSync(join(tmpdir(), 'perf-soak-redis-'));
  const inventory = config.inventory;
  inventory?.dirs.push(redisDir, ...(config.logDir === undefined ? [base] : []));
  const cleanups: { what: string; run: () => Promise<unknown> | unknown }[] = [];
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const history = emptyHistory(config.instances);
  const options = { ...defaultCheckOptions(config.instances), ...config.check };
  const aborted = () => config.signal?.aborted === true;
  let upstreamCalls = 0;
  try {
    const db = new ThrowawayDatabase();
    await db.create();
    if (inventory) inventory.database = db.name;
    cleanups.push({ what: `drop database ${db.name}`, run: () => db.drop() });
    log(`database ${db.name}`);

    const topology: RedisTopology =
      config.topology === 'single' ? new SingleRedis() : new RedisCluster(redisDir);
    cleanups.push({ what: 'stop Redis', run: () => topology.stop() });
    try {
      await topology.start();
    } finally {
      inventory?.redisPorts.push(...topology.servers.map((s) => s.port));
    }
    log(`redis ${config.topology} on ${topology.servers.map((s) => s.port).join(', ')}`);

    const upstream = new SoakUpstream();
    const upstreamUrl = await upstream.listen();
    cleanups.push({ what: 'close upstream', run: () => upstream.close() });

    const ports = await freePorts(config.instances);
    const prefix = `soak-${process.pid}-${Date.now().toString(36)}`;
    const instances = ports.map(
      (port, index) =>
        new DemoInstance({
          index,
          port,
          command: config.demoCommand,
          cwd: config.cwd,
          logFile: join(base, `instance-${index}.log`),
          env: {
            DATABASE_URL: db.url,
            ...topology.env(),
            ASSISTANT_URL: upstreamUrl,
            DEMO_REDIS_PREFIX: prefix,
            DEMO_SEED_CONVERSATIONS: '0',
            LOG_LEVEL: 'warn',
            ...config.demoEnv,
          },
        }),
    );
    cleanups.push({ what: 'stop demo instances', run: () => Promise.all(instances.map((i) => i.stop())) });
    for (const instance of instances) {
      instance.onSpawn = (pid) => inventory?.pids.push(pid);
      instance.onCrash = (code, signal) =>
        history.crashes.push({ instance: instance.index, at: clock(), exit: signal ?? `code ${code}` });
    }
    // The first one migrates the fresh database alone; the others start together.
    await instances[0]!.start();
    await Promise.all(instances.slice(1).map((i) => i.start()));
    log(`${instances.length} demo instances ready on ${ports.join(', ')}`);

    const load = new LoadDriver(() => instances, history, clock, {
      ...defaultLoadOptions(config.seed),
      ...config.load,
    });
    await load.setup();
    const sampler = new Sampler(instances, topology, history, clock);
    cleanups.push({ what: 'stop load', run: () => Promise.all([load.stop(), sampler.stop()]) });

    const start = clock();
    const plan = phasePlan(config.durationMs, options.breakerRecoverMs);
    const phase = (name: string) => {
      load.phase = name;
      history.phases.push({ name, start: clock() });
      log(`phase ${name} at ${((clock() - start) / 1000).toFixed(1)} s`);
    };
    phase('warmup');
    sampler.start();
    load.start();
    await sleepUnless(plan.warmupMs, aborted);
    phase('faults');
    const random = mulberry32(config.seed ^ 0x5eed);
    const kinds = config.faults ?? FAULTS_BY_TOPOLOGY[config.topology];
    await runFaults(
      { topology, instances, upstream, history, clock, random },
      faultOrder(kinds, random, 100),
      // Short gaps: the quiet tail gives every fault its proof (a clean burst, closed breakers).
      { until: start + plan.faultsUntil, gapMs: 1_500 },
      aborted,
    );
    phase('tail');
    await sleepUnless(start + config.durationMs - clock(), aborted);
    await load.stop();
    await sampler.stop();
    history.end = clock();
    upstreamCalls = upstream.calls;
    log(`load stopped after ${history.ops.length} operations; checking`);

    const stored = await db.messages();
    const coverage = emptyCoverage();
    const violations = check(history, stored, options, coverage);
    return {
      config,
      history,
      violations,
      stored,
      upstreamCalls,
      summary: summarize(config.topology, config.seed, history, violations, upstreamCalls, coverage),
      logDir: base,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run();
      } catch (error) {
        log(`cleanup "${cleanup.what}" failed: ${(error as Error).message}`);
      }
    }
    rmSync(redisDir, { recursive: true, force: true });
    if (config.logDir === undefined && config.keepLogs !== true)
      rmSync(base, { recursive: true, force: true });
  }
}

async function sleepUnless(ms: number, aborted: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!aborted() && Date.now() < until) await sleep(Math.min(200, until - Date.now()));
}
