/** The showcase's summary: one object (written as JSON) and the table printed from it. */
import type { DashboardSnapshot } from '@perf/metrics';
import type { DemoStats } from './demo-app.js';
import type { LoadResult } from './load/load-generator.js';

type HistoryStats = NonNullable<DemoStats['history']>;

export interface TierShare {
  /** Share of history reads each tier answered, and the database's share. */
  l1: number;
  l2: number;
  l3: number | null;
  database: number;
  /** Reads answered without the database. */
  overall: number;
}

/** Which tier answered the history reads between two stats snapshots. */
export function historyTierShare(
  before: HistoryStats | undefined,
  after: HistoryStats | undefined,
): TierShare | null {
  if (!before || !after) return null;
  const d = (f: (s: HistoryStats) => number) => f(after) - f(before);
  const hits = d((s) => s.hits);
  const misses = d((s) => s.misses);
  const reads = hits + misses;
  if (reads === 0) return null;
  const l3 = after.tiers.l3 ? d((s) => s.tiers.l3?.hits ?? 0) / reads : null;
  return {
    l1: d((s) => s.tiers.l1?.hits ?? 0) / reads,
    l2: d((s) => s.tiers.l2?.hits ?? 0) / reads,
    l3,
    database: misses / reads,
    overall: hits / reads,
  };
}

export interface ShowcaseSummary {
  finishedAt: string;
  durationMs: number;
  mode: { database: string; redis: boolean; caching: boolean };
  dashboardUrl: string;
  load: LoadResult;
  /** History hit ratio in the steady phase, by tier. */
  steadyHistory: TierShare | null;
  /** History hit ratio over every counted phase. */
  history: TierShare | null;
  databaseQueriesSaved: number;
  historyReads: number;
  historyQueries: number;
  duplicatesPrevented: number;
  breakerTransitions: Array<{ at: number; from: string; to: string }>;
  fallbacksServed: number;
  upstreamCallsDuringOutage: number | null;
  dashboard: DashboardSnapshot | null;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`;
const ms = (x: number | null) => (x === null ? '-' : `${x.toFixed(1)} ms`);

export function formatSummary(s: ShowcaseSummary): string {
  const rows: Array<[string, string]> = [];
  for (const p of s.load.phases) {
    rows.push([
      `phase ${p.name}${p.warmup ? ' (warm-up)' : ''}`,
      `${p.requests} req (${p.requestsPerSecond.toFixed(0)}/s), ${p.errors} errors, ${p.fallbacks} fallbacks, p99 ${ms(p.latencyMs.p99)}`,
    ]);
  }
  const t = s.load.total;
  rows.push(
    [
      'requests',
      `${t.requests} (${t.requestsPerSecond.toFixed(0)}/s; reads ${t.byKind.read}, writes ${t.byKind.write}, replies ${t.byKind.reply})`,
    ],
    ['errors (5xx + network)', `${t.errors}; 4xx ${t.clientErrors}; stale reads ${t.staleReads}`],
    ['latency p50 / p95 / p99', `${ms(t.latencyMs.p50)} / ${ms(t.latencyMs.p95)} / ${ms(t.latencyMs.p99)}`],
    [
      'history hit ratio (steady)',
      s.steadyHistory
        ? `${pct(s.steadyHistory.overall)}: L1 ${pct(s.steadyHistory.l1)}, L2 ${pct(s.steadyHistory.l2)}, L3 ${pct(s.steadyHistory.l3)}, database ${pct(s.steadyHistory.database)}`
        : '-',
    ],
    [
      'history hit ratio (all phases)',
      s.history
        ? `${pct(s.history.overall)}: L1 ${pct(s.history.l1)}, L2 ${pct(s.history.l2)}, L3 ${pct(s.history.l3)}`
        : '-',
    ],
    ['database queries saved', `${s.databaseQueriesSaved} of ${s.historyReads} history reads`],
    ['duplicate requests prevented', String(s.duplicatesPrevented)],
    [
      'breaker transitions',
      s.breakerTransitions.length ? s.breakerTransitions.map((x) => `${x.from}→${x.to}`).join(', ') : 'none',
    ],
    [
      'fallbacks served',
      `${s.fallbacksServed} (upstream calls while down: ${s.upstreamCallsDuringOutage ?? '-'})`,
    ],
    ['dashboard', `${s.dashboardUrl} (while it ran)`],
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  const line = '─'.repeat(width + 2);
  return [`┌${line}┐`, ...rows.map(([k, v]) => `│ ${k.padEnd(width)} │ ${v}`), `└${line}┘`].join('\n');
}
