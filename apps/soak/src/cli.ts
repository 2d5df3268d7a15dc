/**
 * `pnpm soak [--duration 60s] [--topology single|cluster|both] [--seed 1] ...`: the fault soak.
 * Builds the demo, runs each topology, prints every violation with the operations involved and the
 * result table; exits 1 when anything was violated, 2 when the harness itself failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { check, defaultCheckOptions, emptyCoverage, formatViolation } from './checker.js';
import { formatTable, summarize } from './report.js';
import { loadHistory, saveHistory } from './saved-history.js';
import { runSoak, type SoakResult } from './soak.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The demo's long-running server, built once up front (a restart then takes the server's own start time). */
export const DEFAULT_DEMO_COMMAND = ['node', 'apps/demo-chat/dist/main.js'];

/** `--check <file>`: the checker again over a saved history, without running anything. */
function recheck(file: string): number {
  const saved = loadHistory(file);
  const coverage = emptyCoverage();
  const violations = check(
    saved.history,
    saved.stored,
    defaultCheckOptions(saved.history.instances),
    coverage,
  );
  for (const v of violations) console.log(formatViolation(v));
  const summary = summarize(
    saved.topology,
    saved.seed,
    saved.history,
    violations,
    saved.upstreamCalls,
    coverage,
  );
  console.log(`\n${formatTable([summary])}`);
  return violations.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.check !== undefined) return recheck(args.check);
  const controller = new AbortController();
  // A bug in a harness loop must not kill the process before the cleanup has run.
  process.on('unhandledRejection', (reason) => {
    console.error(`soak: unexpected error, stopping and cleaning up: ${String(reason)}`);
    controller.abort();
    process.exitCode = 2;
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (controller.signal.aborted) process.exit(130); // second signal: give up on cleanup
      console.error(`\n${signal}: stopping the soak and cleaning up (again to quit at once)`);
      controller.abort();
    });

  if (args.demoCommand === undefined) {
    console.log('building the demo (turbo, cached)...');
    const build = spawnSync(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--filter=@perf/demo-chat...', '--output-logs=errors-only'],
      { cwd: repoRoot, stdio: 'inherit' },
    );
    if (build.status !== 0) throw new Error('building @perf/demo-chat failed');
  }

  const results: SoakResult[] = [];
  for (const topology of args.topologies) {
    if (controller.signal.aborted) break;
    const logDir = mkdtempSync(join(tmpdir(), `perf-soak-${topology}-`));
    console.log(
      `\n== soak: ${topology} Redis, ${args.instances} demo instances, ${args.durationMs / 1000} s, seed ${args.seed}`,
    );
    const result = await runSoak({
      topology,
      durationMs: args.durationMs,
      seed: args.seed,
      instances: args.instances,
      demoCommand: args.demoCommand ?? DEFAULT_DEMO_COMMAND,
      cwd: repoRoot,
      logDir,
      signal: controller.signal,
      log: (line) => console.log(`   ${line}`),
    });
    results.push(result);
    if (args.history !== undefined) {
      mkdirSync(args.history, { recursive: true });
      const file = join(args.history, `history-${topology}.json`);
      saveHistory(file, {
        topology,
        seed: args.seed,
        upstreamCalls: result.upstreamCalls,
        history: result.history,
        stored: result.stored,
      });
      console.log(`   history written to ${file} (re-check: pnpm soak --check ${file})`);
    }
    const shown = result.violations.slice(0, 40);
    for (const v of shown) console.log(formatViolation(v));
    if (result.violations.length > shown.length)
      console.log(`... and ${result.violations.length - shown.length} more violations`);
    if (result.violations.length > 0 || args.keepLogs) console.log(`   instance logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }

  console.log(`\n${formatTable(results.map((r) => r.summary))}`);
  const notProven = [...new Set(results.flatMap((r) => r.summary.notProven))];
  if (notProven.length > 0) {
    console.log('\nNOT PROVEN (the demo does not expose it):');
    for (const what of notProven) console.log(`  - ${what}`);
  }
  if (args.json !== undefined) {
    writeFileSync(
      args.json,
      JSON.stringify(
        results.map((r) => ({ summary: r.summary, violations: r.violations.map(formatViolation) })),
        null,
        2,
      ),
    );
    console.log(`\nresult written to ${args.json}`);
  }
  const violations = results.reduce((n, r) => n + r.violations.length, 0);
  if (process.exitCode === 2) return 2;
  if (controller.signal.aborted) return 130;
  return violations > 0 || (args.strict && notProven.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`soak: ${error.message}`);
    process.exit(2);
  },
);
