import { performance } from 'node:perf_hooks';
import type { DemoInstance } from './demo-instance.js';
import type { BreakerState, History } from './history.js';
import { sleep } from './ports.js';
import type { RedisTopology } from './redis-topology.js';

export interface MetricLine {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus / OpenMetrics text exposition into samples (comments and blank lines skipped). */
export function parseMetrics(text: string): MetricLine[] {
  const out: MetricLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    const value = Number(match[4]);
    if (!Number.isNaN(value)) out.push({ name: match[1]!, labels, value });
  }
  return out;
}

/** Where each bounded resource comes from in an instance's /metrics. */
export const RESOURCE_METRICS = {
  loopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  /** prom-client's active resources by type; timers are type Timeout. */
  activeResources: 'nodejs_active_resources',
  breakerState: 'perf_breaker_state',
  /** Any gauge whose name says pending re-sync (the cache's missed Redis writes). */
  pendingResync: /pending.*sync|resync.*pending/,
} as const;

export interface Resources {
  loopLagP99Ms?: number;
  timers?: number;
  pendingResync?: number;
  breakers: Record<string, BreakerState>;
}

/** Picks the bounded resources and breaker states out of one /metrics scrape. */
export function resourcesFrom(lines: readonly MetricLine[]): Resources {
  const r: Resources = { breakers: {} };
  let pending: number | undefined;
  for (const m of lines) {
    if (m.name === RESOURCE_METRICS.loopLagP99) r.loopLagP99Ms = m.value * 1000;
    else if (m.name === RESOURCE_METRICS.activeResources && m.labels.type === 'Timeout') r.timers = m.value;
    else if (m.name === RESOURCE_METRICS.breakerState && m.value === 1 && m.labels.name !== undefined)
      r.breakers[m.labels.name] = m.labels.state as BreakerState;
    else if (RESOURCE_METRICS.pendingResync.test(m.name)) pending = (pending ?? 0) + m.value;
  }
  if (pending !== undefined) r.pendingResync = pending;
  return r;
}

/** Samples every instance's resources and breakers, and Redis connections, every `everyMs`. */
export class Sampler {
  readonly #instances: readonly DemoInstance[];
  readonly #topology: RedisTopology;
  readonly #history: History;
  readonly #clock: () => number;
  readonly #everyMs: number;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #seen = { lag: false, timers: false, pending: false, breakers: false, scrapes: 0 };

  constructor(
    instances: readonly DemoInstance[],
    topology: RedisTopology,
    history: History,
    clock: () => number,
    everyMs = 1_000,
  ) {
    this.#instances = instances;
    this.#topology = topology;
    this.#history = history;
    this.#clock = clock;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops sampling and records what the instances never exposed. */
  async stop(): Promise<void> {
    if (this.#loop === undefined) return; // never started, or already stopped
    this.#running = false;
    await this.#loop;
    this.#loop = undefined;
    if (this.#seen.scrapes === 0) this.#history.unobservable.push('/metrics (never scraped)');
    if (!this.#seen.lag)
      this.#history.unobservable.push(`event-loop lag p99 (${RESOURCE_METRICS.loopLagP99})`);
    if (!this.#seen.timers)
      this.#history.unobservable.push(`timers (${RESOURCE_METRICS.activeResources}{type="Timeout"})`);
    if (!this.#seen.pending)
      this.#history.unobservable.push('pending re-sync entries (no *pending*sync* gauge)');
    if (!this.#seen.breakers && this.#history.faults.some((f) => f.kind === 'upstream-down'))
      this.#history.unobservable.push(`breaker states (${RESOURCE_METRICS.breakerState})`);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const started = Date.now();
      await Promise.all([...this.#instances.map((i) => this.#sampleInstance(i)), this.#sampleRedis()]);
      await sleep(Math.max(0, this.#everyMs - (Date.now() - started)));
    }
  }

  async #sampleInstance(instance: DemoInstance): Promise<void> {
    if (!instance.up) return;
    const incarnation = instance.incarnation;
    let resources: Resources = { breakers: {} };
    let healthzMs: number | undefined;
    try {
      const started = performance.now();
      const res = await fetch(`${instance.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      if (res.ok) healthzMs = performance.now() - started;
    } catch {
      // killed while probed
    }
    try {
      const res = await fetch(`${instance.url}/metrics`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) {
        resources = resourcesFrom(parseMetrics(await res.text()));
        this.#seen.scrapes++;
      } else await res.body?.cancel();
    } catch {
      // a killed or stalled instance: its RSS still counts
    }
    const t = this.#clock();
    const stats = instance.processStats();
    if (resources.loopLagP99Ms !== undefined) this.#seen.lag = true;
    if (resources.timers !== undefined) this.#seen.timers = true;
    if (resources.pendingResync !== undefined) this.#seen.pending = true;
    this.#history.resources.push({
      t,
      instance: instance.index,
      incarnation,
      ...(stats === undefined ? {} : stats),
      ...(healthzMs === undefined ? {} : { healthzMs }),
      ...(resources.loopLagP99Ms === undefined ? {} : { loopLagP99Ms: resources.loopLagP99Ms }),
      ...(resources.timers === undefined ? {} : { timers: resources.timers }),
      ...(resources.pendingResync === undefined ? {} : { pendingResync: resources.pendingResync }),
    });
    if (Object.keys(resources.breakers).length > 0) {
      this.#seen.breakers = true;
      this.#history.breakers.push({ t, instance: instance.index, states: resources.breakers });
    }
  }

  async #sampleRedis(): Promise<void> {
    const connections = await this.#topology.connections();
    this.#history.redis.push({ t: this.#clock(), connections });
  }
}
