/**
 * `pnpm --filter demo-chat load -- --targets http://127.0.0.1:3000,http://127.0.0.1:3001`: drives
 * running demos with the showcase's generator and prints the same numbers (plus each target's
 * dashboard snapshot). Options: --duration 20 (s), --concurrency 16, --seed 42,
 * --outage <upstream admin base URL> (switches that upstream off for the middle third), --json <file>.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runLoad } from './load-generator.js';
import { progressBar } from './progress-bar.js';

// `pnpm ... load -- --targets x` hands the `--` through; it only separates pnpm's options from ours.
const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    targets: { type: 'string', default: 'http://127.0.0.1:3000' },
    duration: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '16' },
    seed: { type: 'string', default: '42' },
    outage: { type: 'string' },
    json: { type: 'string' },
  },
});
const totalMs = Number(values.duration) * 1000;
if (!(totalMs > 0)) throw new Error('--duration: must be a positive number of seconds');
const targets = values.targets
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);
const outage = async (on: boolean) => {
  if (!values.outage) return;
  await fetch(`${values.outage}/admin/outage`, { method: 'POST', body: JSON.stringify({ on }) });
};
const phases = values.outage
  ? [
      { name: 'steady', durationMs: totalMs / 3 },
      { name: 'outage', durationMs: totalMs / 3, onStart: () => outage(true) },
      { name: 'recovery', durationMs: totalMs / 3, onStart: () => outage(false) },
    ]
  : [{ name: 'steady', durationMs: totalMs }];

const bar = progressBar();
const result = await runLoad({
  targets,
  phases,
  concurrency: Number(values.concurrency),
  seed: Number(values.seed),
  onProgress: (p) => bar.update(p),
});
bar.stop();
const dashboards = await Promise.all(
  result.targets.map((t) =>
    fetch(`${t}/dashboard?format=json`)
      .then((r) => r.json())
      .catch((e: unknown) => ({ error: String(e) })),
  ),
);
const t = result.total;
console.log(
  `${t.requests} requests (${t.requestsPerSecond.toFixed(0)}/s) over ${targets.length} target(s): ${t.errors} errors, ` +
    `${t.clientErrors} 4xx, ${t.staleReads} stale reads, ${t.fallbacks} fallbacks; ` +
    `p50 ${t.latencyMs.p50?.toFixed(1)} ms, p95 ${t.latencyMs.p95?.toFixed(1)} ms, p99 ${t.latencyMs.p99?.toFixed(1)} ms`,
);
for (const [i, d] of dashboards.entries()) console.log(`${result.targets[i]}: ${JSON.stringify(d)}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ ...result, dashboards }, null, 2)}\n`);
process.exit(t.errors > 0 ? 1 : 0);
