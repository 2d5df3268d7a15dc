import type { Coverage, Violation } from './checker.js';
import type { History, Op } from './history.js';

export interface SoakSummary {
  readonly topology: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly ops: { total: number; failed: number; byKind: Record<string, { ok: number; failed: number }> };
  readonly faults: Record<string, number>;
  readonly violations: Record<string, number>;
  readonly violationCount: number;
  /** Latency p99 (ms) and request count per phase, and while each kind of fault was running. */
  readonly p99: Record<string, { count: number; p99Ms: number }>;
  readonly upstreamCalls: number;
  /** How much each rule judged. */
  readonly coverage: Coverage;
  /** Checks the instances gave no data for (a metric they do not expose). */
  readonly notProven: readonly string[];
}

function p99(ops: readonly Op[]): { count: number; p99Ms: number } {
  const latencies = ops.map((o) => o.end - o.start).sort((a, b) => a - b);
  const at = Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1);
  return {
    count: latencies.length,
    p99Ms: latencies.length === 0 ? 0 : Math.round(latencies[at]! * 10) / 10,
  };
}

export function summarize(
  topology: string,
  seed: number,
  history: History,
  violations: readonly Violation[],
  upstreamCalls: number,
  coverage: Coverage,
): SoakSummary {
  const byKind: Record<string, { ok: number; failed: number }> = {};
  for (const op of history.ops) {
    const k = byKind[op.kind] ?? { ok: 0, failed: 0 };
    byKind[op.kind] = k;
    if (op.ok) k.ok++;
    else k.failed++;
  }
  const faults: Record<string, number> = {};
  for (const f of history.faults) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
  const rules: Record<string, number> = {};
  for (const v of violations) rules[v.rule] = (rules[v.rule] ?? 0) + 1;
  const phases: Record<string, { count: number; p99Ms: number }> = {};
  for (const { name } of history.phases) phases[name] = p99(history.ops.filter((o) => o.phase === name));
  for (const kind of Object.keys(faults)) {
    const windows = history.faults.filter((f) => f.kind === kind);
    phases[`during ${kind}`] = p99(
      history.ops.filter((o) => windows.some((f) => o.start <= f.end && o.end >= f.start)),
    );
  }
  return {
    topology,
    seed,
    durationMs: Math.round(history.end),
    ops: { total: history.ops.length, failed: history.ops.filter((o) => !o.ok).length, byKind },
    faults,
    violations: rules,
    violationCount: violations.length,
    p99: phases,
    upstreamCalls,
    notProven: [...history.unobservable],
    coverage,
  };
}

/** The result table: one column per topology run. */
export function formatTable(summaries: readonly SoakSummary[]): string {
  const rows: [string, ...string[]][] = [];
  const union = (pick: (s: SoakSummary) => Record<string, unknown>) => [
    ...new Set(summaries.flatMap((s) => Object.keys(pick(s)))),
  ];
  rows.push(['topology', ...summaries.map((s) => s.topology)]);
  rows.push([
    'seed / duration',
    ...summaries.map((s) => `${s.seed} / ${(s.durationMs / 1000).toFixed(0)} s`),
  ]);
  rows.push(['operations (failed)', ...summaries.map((s) => `${s.ops.total} (${s.ops.failed})`)]);
  for (const kind of union((s) => s.ops.byKind))
    rows.push([
      `  ${kind} ok / failed`,
      ...summaries.map((s) => `${s.ops.byKind[kind]?.ok ?? 0} / ${s.ops.byKind[kind]?.failed ?? 0}`),
    ]);
  rows.push([
    'faults injected',
    ...summaries.map((s) => String(Object.values(s.faults).reduce((a, b) => a + b, 0))),
  ]);
  for (const kind of union((s) => s.faults))
    rows.push([`  ${kind}`, ...summaries.map((s) => String(s.faults[kind] ?? 0))]);
  rows.push(['violations', ...summaries.map((s) => String(s.violationCount))]);
  for (const rule of union((s) => s.violations))
    rows.push([`  ${rule}`, ...summaries.map((s) => String(s.violations[rule] ?? 0))]);
  rows.push(['judged: acked writes in PG', ...summaries.map((s) => String(s.coverage.ackedWrites))]);
  rows.push([
    'judged: read-after-ack pairs',
    ...summaries.map((s) => String(s.coverage.readAfterWritePairs)),
  ]);
  rows.push(['judged: clean reply bursts', ...summaries.map((s) => String(s.coverage.burstsJudged))]);
  rows.push(['judged: breaker sync checks', ...summaries.map((s) => String(s.coverage.breakerChecks))]);
  rows.push(['judged: resource samples', ...summaries.map((s) => String(s.coverage.resourceSamples))]);
  rows.push(['p99 latency (ms)', ...summaries.map(() => '')]);
  for (const phase of union((s) => s.p99))
    rows.push([
      `  ${phase}`,
      ...summaries.map((s) =>
        s.p99[phase] === undefined ? '-' : `${s.p99[phase].p99Ms} (n=${s.p99[phase].count})`,
      ),
    ]);
  rows.push(['not proven (no metric)', ...summaries.map((s) => String(s.notProven.length))]);
  rows.push(['upstream calls', ...summaries.map((s) => String(s.upstreamCalls))]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}
