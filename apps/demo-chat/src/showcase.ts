/**
 * `pnpm start`: the bounded showcase. Starts the demo and its assistant upstream in-process on free
 * ports (embedded PGlite, no services needed), drives the seeded load generator through warm-up,
 * steady, upstream outage and recovery (about 20 s), prints the summary table, writes it as JSON and
 * exits 0 (1 if the demo failed: it did not start, answered with 5xx, or served a stale read).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDemo } from './demo-app.js';
import { runLoad } from './load/load-generator.js';
import { progressBar } from './load/progress-bar.js';
import { formatSummary, historyTierShare, type ShowcaseSummary } from './summary.js';
import { tracingFromEnv } from './tracing.js';

const started = Date.now();
const summaryFile =
  process.env.DEMO_SUMMARY_FILE || fileURLToPath(new URL('../showcase-summary.json', import.meta.url));
const seconds = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 1000;

console.log(
  '@perf demo-chat showcase: starting the chat server and its assistant upstream (embedded PGlite)...',
);
// No exporter unless OTEL_EXPORTER_OTLP_ENDPOINT (or another export variable) asks for one.
const tracing = tracingFromEnv();
if (tracing) console.log(`exporting traces over OTLP as service ${tracing.serviceName}`);
const demo = await startDemo(
  {
    port: 0,
    logLevel: 'error',
    databaseUrl: process.env.DATABASE_URL || undefined,
    redisUrl: process.env.REDIS_URL || undefined,
  },
  { tracing },
);
const hardStop = setTimeout(() => {
  console.error('showcase: did not finish within 180 s');
  process.exit(1);
}, 180_000);
hardStop.unref();

try {
  await demo.ready;
} catch (error) {
  console.error('showcase: the demo failed to start:', error);
  await demo.close();
  process.exit(1);
}
const dashboardUrl = `${demo.url}/dashboard`;
console.log(`server ${demo.url}  ·  dashboard ${dashboardUrl}  ·  assistant upstream ${demo.upstream?.url}`);

let steadyStart = demo.stats();
let steadyEnd = steadyStart;
let countedStart = steadyStart;
const bar = progressBar();
const load = await runLoad({
  targets: [demo.url],
  concurrency: Number(process.env.DEMO_CONCURRENCY ?? 12),
  phases: [
    { name: 'warm-up', durationMs: seconds('DEMO_WARMUP_S', 2), warmup: true },
    {
      name: 'steady',
      durationMs: seconds('DEMO_STEADY_S', 8),
      onStart: () => {
        steadyStart = demo.stats();
        countedStart = steadyStart;
      },
    },
    {
      name: 'outage',
      durationMs: seconds('DEMO_OUTAGE_S', 5),
      onStart: () => {
        steadyEnd = demo.stats();
        demo.upstream?.setOutage(true);
      },
    },
    {
      name: 'recovery',
      durationMs: seconds('DEMO_RECOVERY_S', 5),
      onStart: () => demo.upstream?.setOutage(false),
    },
  ],
  onProgress: (p) => bar.update(p),
});
bar.stop();

const end = demo.stats()!;
const from = countedStart!;
const summary: ShowcaseSummary = {
  finishedAt: new Date().toISOString(),
  durationMs: Date.now() - started,
  mode: {
    database: demo.config.databaseUrl ? 'postgres' : 'pglite',
    redis: !!demo.config.redisUrl,
    caching: demo.config.caching,
  },
  dashboardUrl,
  load,
  steadyHistory: historyTierShare(steadyStart?.history, steadyEnd?.history),
  history: historyTierShare(from.history, end.history),
  historyReads: end.historyReads - from.historyReads,
  historyQueries: end.historyQueries - from.historyQueries,
  databaseQueriesSaved: end.historyReads - from.historyReads - (end.historyQueries - from.historyQueries),
  duplicatesPrevented:
    end.readDedup.followers - from.readDedup.followers + end.replyDedup.followers - from.replyDedup.followers,
  breakerTransitions: end.breakerTransitions.filter((t) => t.at >= started),
  fallbacksServed: end.breaker.fallbacks - from.breaker.fallbacks,
  upstreamCallsDuringOutage: end.upstream?.callsDuringOutage ?? null,
  dashboard: demo.metrics.dashboardSnapshot(),
};
await demo.close();
clearTimeout(hardStop);

console.log(formatSummary(summary));
writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`summary written to ${summaryFile}`);

const failures: string[] = [];
if (load.total.requests === 0) failures.push('no request completed');
if (load.total.errors > load.total.requests * 0.01)
  failures.push(`${load.total.errors} requests failed (5xx or network)`);
if (load.total.staleReads > 0) failures.push(`${load.total.staleReads} stale reads`);
if (failures.length) {
  console.error(`showcase FAILED: ${failures.join('; ')}`);
  for (const e of load.firstErrors) console.error(`  ${e}`);
  process.exit(1);
}
console.log('showcase done');
process.exit(0);
