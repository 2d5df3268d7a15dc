import { type FaultEvent, type History, type Op, REDIS_FAULTS, type ResourceSample } from './history.js';

/** What PostgreSQL holds after the run: message id -> conversation id. */
export type StoredMessages = ReadonlyMap<string, string>;

export type Rule =
  | 'acked-write-lost'
  | 'stale-read'
  | 'phantom-read'
  | 'request-failed'
  | 'instance-crashed'
  | 'dedup-broken'
  | 'dedup-unproven'
  | 'breaker-not-synced'
  | 'breaker-not-recovered'
  | 'resource-unbounded';

export interface Violation {
  readonly rule: Rule;
  readonly message: string;
  /** The operations involved (the write and the read, the failed request, the burst). */
  readonly ops: readonly Op[];
  readonly faults: readonly FaultEvent[];
}

export interface CheckOptions {
  /** A read on another instance must see a write acknowledged this long before it started. */
  stalenessMs: number;
  /** After a Redis fault ends, dedup and breaker sync get this long to work again. */
  recoveryMs: number;
  /** Every instance's breaker must have left closed this long into an upstream outage (sync). */
  breakerOpenMs: number;
  /** ... and be closed again this long after the upstream came back (half-open delay + a probe). */
  breakerRecoverMs: number;
  maxRssBytes: number;
  /** Allowed RSS growth: last-quarter median <= factor x second-quarter median + slack. */
  rssGrowthFactor: number;
  rssGrowthSlackBytes: number;
  maxLoopLagP99Ms: number;
  /** A GET /healthz from the harness (the event loop seen from outside) must answer within this. */
  maxHealthzMs: number;
  /** Allowed growth of open file descriptors (sockets, files), like timers. */
  fdsGrowthFactor: number;
  fdsGrowthSlack: number;
  /** Allowed timer growth: last-quarter median <= factor x second-quarter median + slack. */
  timersGrowthFactor: number;
  timersGrowthSlack: number;
  maxRedisConnections: number;
  /** Pending re-sync entries each instance may still hold at the end of the quiet tail. */
  maxPendingResyncAtEnd: number;
}

export function defaultCheckOptions(instances: number): CheckOptions {
  return {
    stalenessMs: 100,
    recoveryMs: 3_000,
    breakerOpenMs: 4_000,
    breakerRecoverMs: 8_000,
    maxRssBytes: 1536 * 1024 * 1024,
    rssGrowthFactor: 1.5,
    rssGrowthSlackBytes: 64 * 1024 * 1024,
    maxLoopLagP99Ms: 1_000,
    maxHealthzMs: 2_000,
    fdsGrowthFactor: 1.5,
    fdsGrowthSlack: 32,
    timersGrowthFactor: 2,
    timersGrowthSlack: 50,
    // A handful of clients per instance per Redis node (commands, bus subscriber, sync) plus the harness's.
    maxRedisConnections: instances * 6 * 8 + 16,
    maxPendingResyncAtEnd: 0,
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

const overlaps = (f: FaultEvent, start: number, end: number) => f.start <= end && f.end >= start;

function faultsDuring(history: History, start: number, end: number): FaultEvent[] {
  return history.faults.filter((f) => overlaps(f, start, end));
}

function describe(op: Op): string {
  const result = op.ok
    ? op.kind === 'read'
      ? `saw ${op.seen?.length ?? 0} messages`
      : `acked ${op.messageId ?? op.conversation}`
    : `failed ${op.status ?? ''} ${op.error ?? ''}`.trim();
  return `#${op.id} ${op.kind} conv=${op.conversation} on instance ${op.instance} [${op.start.toFixed(1)}..${op.end.toFixed(1)} ms] ${result}`;
}

/** One line per operation, for printing a violation. */
export function formatViolation(v: Violation): string {
  const lines = [`[${v.rule}] ${v.message}`];
  for (const op of v.ops) lines.push(`    ${describe(op)}`);
  for (const f of v.faults)
    lines.push(`    fault ${f.kind} on ${f.target} [${f.start.toFixed(0)}..${f.end.toFixed(0)} ms]`);
  return lines.join('\n');
}

/** How much each rule had to judge, so that "0 violations" says how much was proven. */
export interface Coverage {
  /** Acknowledged writes and replies looked up in PostgreSQL. */
  ackedWrites: number;
  /** (acked write, later read) pairs whose read had to return the write. */
  readAfterWritePairs: number;
  /** Undisturbed bursts of identical replies whose leaders were counted. */
  burstsJudged: number;
  /** Instance x upstream-outage pairs whose breaker sync was judged (open, recovered). */
  breakerChecks: number;
  /** Resource samples judged. */
  resourceSamples: number;
}

export const emptyCoverage = (): Coverage => ({
  ackedWrites: 0,
  readAfterWritePairs: 0,
  burstsJudged: 0,
  breakerChecks: 0,
  resourceSamples: 0,
});

/**
 * Checks a recorded history against what PostgreSQL holds; returns every violation found, and
 * counts in `coverage` (when given) how much each rule judged.
 */
export function check(
  history: History,
  stored: StoredMessages,
  options: CheckOptions,
  coverage: Coverage = emptyCoverage(),
): Violation[] {
  const violations: Violation[] = [];
  coverage.resourceSamples = history.resources.length + history.redis.length;
  checkWrites(history, stored, options, violations, coverage);
  checkFailures(history, violations);
  for (const crash of history.crashes)
    violations.push({
      rule: 'instance-crashed',
      message: `instance ${crash.instance} exited on its own at ${crash.at.toFixed(0)} ms (${crash.exit})`,
      ops: [],
      faults: faultsDuring(history, crash.at - 1_000, crash.at),
    });
  checkDedup(history, options, violations, coverage);
  checkBreakers(history, options, violations, coverage);
  checkResources(history, options, violations);
  return violations;
}

function checkWrites(
  history: History,
  stored: StoredMessages,
  options: CheckOptions,
  out: Violation[],
  coverage: Coverage,
): void {
  const ackedByConversation = new Map<string, Op[]>();
  for (const op of history.ops) {
    if (!op.ok || op.messageId === undefined || (op.kind !== 'write' && op.kind !== 'reply')) continue;
    coverage.ackedWrites++;
    if (!stored.has(op.messageId)) {
      out.push({
        rule: 'acked-write-lost',
        message: `message ${op.messageId} was acknowledged but is not in PostgreSQL`,
        ops: [op],
        faults: faultsDuring(history, op.start, op.end),
      });
    }
    push(ackedByConversation, op.conversation, op);
  }
  for (const read of history.ops) {
    if (read.kind !== 'read' || !read.ok || read.seen === undefined) continue;
    const seen = new Set(read.seen);
    for (const id of read.seen) {
      if (!stored.has(id)) {
        out.push({
          rule: 'phantom-read',
          message: `read returned message ${id}, which PostgreSQL does not hold`,
          ops: [read],
          faults: faultsDuring(history, read.start, read.end),
        });
      }
    }
    // A full page holds the newest messages only: judge those at or above its oldest id, or none.
    if (read.truncated && read.floor === undefined) continue;
    const floor = read.truncated ? Number(read.floor) : Number.NEGATIVE_INFINITY;
    for (const write of ackedByConversation.get(read.conversation) ?? []) {
      if (Number(write.messageId) < floor) continue;
      const bound = write.instance === read.instance ? 0 : options.stalenessMs;
      if (write.end + bound > read.start) continue;
      coverage.readAfterWritePairs++;
      if (seen.has(write.messageId!)) continue;
      out.push({
        rule: 'stale-read',
        message: `read started ${(read.start - write.end).toFixed(1)} ms after message ${write.messageId} was acknowledged (bound ${bound} ms) and did not return it`,
        ops: [write, read],
        faults: faultsDuring(history, write.start, read.end),
      });
    }
  }
}

function checkFailures(history: History, out: Violation[]): void {
  for (const op of history.ops) {
    if (op.ok) continue;
    const killedInFlight = history.kills.some(
      (k) => k.instance === op.instance && op.start <= k.at && k.at <= op.end,
    );
    if (killedInFlight) continue;
    const faults = faultsDuring(history, op.start, op.end);
    const cause =
      faults.length === 0 ? 'with no fault running' : `during ${faults.map((f) => f.kind).join(', ')}`;
    out.push({ rule: 'request-failed', message: `request failed ${cause}`, ops: [op], faults });
  }
}

function checkDedup(history: History, options: CheckOptions, out: Violation[], coverage: Coverage): void {
  const bursts = new Map<number, Op[]>();
  for (const op of history.ops) {
    if (op.burst === undefined) continue;
    push(bursts, op.burst, op);
  }
  const redisFaults = history.faults.filter((f) => REDIS_FAULTS.has(f.kind));
  const cleanStarts: number[] = [];
  for (const ops of bursts.values()) {
    const start = Math.min(...ops.map((o) => o.start));
    const end = Math.max(...ops.map((o) => o.end));
    const answered = ops.filter((o) => o.ok && !o.fallback && o.messageId !== undefined);
    if (answered.length < 2) continue;
    // A burst near a fault may legitimately run one leader per instance (dedup degrades to local).
    const disturbed =
      history.faults.some((f) =>
        overlaps(f, start - (REDIS_FAULTS.has(f.kind) ? options.recoveryMs : 0), end),
      ) || history.kills.some((k) => k.at <= end && (k.restartedAt ?? Number.POSITIVE_INFINITY) >= start);
    if (disturbed) continue;
    const leaders = new Set(answered.map((o) => o.messageId)).size;
    cleanStarts.push(start);
    coverage.burstsJudged++;
    if (leaders > 1) {
      out.push({
        rule: 'dedup-broken',
        message: `a burst of ${ops.length} identical reply requests over ${new Set(ops.map((o) => o.instance)).size} instances ran ${leaders} leaders (expected 1)`,
        ops,
        faults: faultsDuring(history, start - options.recoveryMs, end),
      });
    }
  }
  for (const fault of redisFaults) {
    const after = fault.end + options.recoveryMs;
    if (after >= history.end) continue; // no time left to prove anything; the tail phase should prevent this
    if (!cleanStarts.some((s) => s >= after)) {
      out.push({
        rule: 'dedup-unproven',
        message: `no undisturbed reply burst after ${fault.kind} ended: cross-instance dedup after it is not proven`,
        ops: [],
        faults: [fault],
      });
    }
  }
}

function checkBreakers(history: History, options: CheckOptions, out: Violation[], coverage: Coverage): void {
  const outages = history.faults.filter((f) => f.kind === 'upstream-down');
  if (outages.length === 0) return;
  const alive = (instance: number, start: number, end: number) =>
    !history.kills.some(
      (k) => k.instance === instance && k.at <= end && (k.restartedAt ?? Number.POSITIVE_INFINITY) >= start,
    );
  for (const outage of outages) {
    for (let i = 0; i < history.instances; i++) {
      const samples = history.breakers.filter((s) => s.instance === i);
      // Opened: some sample inside the outage, after the bound, shows every breaker not closed.
      if (outage.end - outage.start > options.breakerOpenMs && alive(i, outage.start, outage.end)) {
        const inside = samples.filter(
          (s) => s.t >= outage.start + options.breakerOpenMs && s.t <= outage.end,
        );
        if (inside.length > 0) coverage.breakerChecks++;
        if (inside.length > 0 && !inside.some((s) => Object.values(s.states).some((st) => st !== 'closed'))) {
          out.push({
            rule: 'breaker-not-synced',
            message: `instance ${i}'s breakers stayed closed ${options.breakerOpenMs} ms into an upstream outage`,
            ops: [],
            faults: [outage],
          });
        }
      }
      // Recovered: the first sample after the bound shows every breaker closed again.
      const due = outage.end + options.breakerRecoverMs;
      // A later upstream fault (down or slow) within the bound may rightly open it again.
      const next = history.faults.find(
        (f) => (f.kind === 'upstream-down' || f.kind === 'upstream-slow') && f.start > outage.start,
      );
      if (next !== undefined && next.start <= due) continue;
      if (!alive(i, outage.end, due)) continue;
      const first = samples.find((s) => s.t >= due);
      if (first === undefined) continue;
      coverage.breakerChecks++;
      const open = Object.entries(first.states).filter(([, st]) => st !== 'closed');
      if (open.length > 0) {
        out.push({
          rule: 'breaker-not-recovered',
          message: `instance ${i}: ${open.map(([n, st]) => `${n}=${st}`).join(', ')} ${options.breakerRecoverMs} ms after the upstream came back`,
          ops: [],
          faults: [outage],
        });
      }
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The second-quarter and last-quarter medians of a series (the first quarter is warm-up). */
function quarters(values: number[]): { early: number; late: number } | undefined {
  if (values.length < 8) return undefined;
  const q = Math.floor(values.length / 4);
  return { early: median(values.slice(q, 2 * q)), late: median(values.slice(values.length - q)) };
}

function checkResources(history: History, options: CheckOptions, out: Violation[]): void {
  const unbounded = (message: string) =>
    out.push({ rule: 'resource-unbounded', message, ops: [], faults: [] });
  const series = new Map<string, ResourceSample[]>();
  for (const s of history.resources) {
    push(series, `${s.instance}/${s.incarnation}`, s);
  }
  const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
  for (const [key, samples] of series) {
    const rss = samples.flatMap((s) => (s.rssBytes === undefined ? [] : [s.rssBytes]));
    const maxRss = Math.max(0, ...rss);
    if (maxRss > options.maxRssBytes)
      unbounded(`instance ${key}: RSS reached ${mib(maxRss)} (limit ${mib(options.maxRssBytes)})`);
    const rq = quarters(rss);
    if (rq !== undefined && rq.late > rq.early * options.rssGrowthFactor + options.rssGrowthSlackBytes)
      unbounded(`instance ${key}: RSS grew from ${mib(rq.early)} to ${mib(rq.late)}`);
    const lag = samples.flatMap((s) => (s.loopLagP99Ms === undefined ? [] : [s.loopLagP99Ms]));
    const maxLag = Math.max(0, ...lag);
    if (maxLag > options.maxLoopLagP99Ms)
      unbounded(
        `instance ${key}: event-loop lag p99 reached ${maxLag.toFixed(0)} ms (limit ${options.maxLoopLagP99Ms})`,
      );
    const healthz = samples.flatMap((s) => (s.healthzMs === undefined ? [] : [s.healthzMs]));
    const maxHealthz = Math.max(0, ...healthz);
    if (maxHealthz > options.maxHealthzMs)
      unbounded(`instance ${key}: /healthz took ${maxHealthz.toFixed(0)} ms (limit ${options.maxHealthzMs})`);
    const fds = samples.flatMap((s) => (s.fds === undefined ? [] : [s.fds]));
    const fq = quarters(fds);
    if (fq !== undefined && fq.late > fq.early * options.fdsGrowthFactor + options.fdsGrowthSlack)
      unbounded(`instance ${key}: open file descriptors grew from ${fq.early} to ${fq.late}`);
    const timers = samples.flatMap((s) => (s.timers === undefined ? [] : [s.timers]));
    const tq = quarters(timers);
    if (tq !== undefined && tq.late > tq.early * options.timersGrowthFactor + options.timersGrowthSlack)
      unbounded(`instance ${key}: timers grew from ${tq.early} to ${tq.late}`);
    const pending = samples.flatMap((s) => (s.pendingResync === undefined ? [] : [s.pendingResync]));
    const lastPending = pending.at(-1);
    const lastAt = samples.at(-1)!.t;
    // Only the incarnation alive at the end must have drained (a killed one never gets the chance).
    if (
      lastPending !== undefined &&
      lastPending > options.maxPendingResyncAtEnd &&
      history.end - lastAt < 5_000
    )
      unbounded(`instance ${key}: ${lastPending} re-sync entries still pending at the end of the run`);
  }
  const connections = history.redis.map((s) => s.connections);
  const maxConnections = Math.max(0, ...connections);
  if (maxConnections > options.maxRedisConnections)
    unbounded(`Redis connections reached ${maxConnections} (limit ${options.maxRedisConnections})`);
  const cq = quarters(connections);
  if (cq !== undefined && cq.late > cq.early * 1.5 + history.instances * 2)
    unbounded(`Redis connections grew from ${cq.early} to ${cq.late}`);
}
