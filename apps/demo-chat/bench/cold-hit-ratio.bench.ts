/**
 * The history hit ratio without the start-up warm-up (DEMO_WARM=off): the chat-history workload's
 * own warm-up (its first 10,000 operations, seed 42, not counted), then 15 s of the same workload
 * with the next seed, counted from the demo's /metrics. What the demo gets from warming its caches
 * at start (`pnpm start` and the e2e tests warm: 100% there, as writes write through).
 */
import { runLoad } from '../src/load/load-generator.js';
import { historyReadCounts, hitRatio, startDemoProcess } from '../test/helpers/demo-process.js';

const demo = await startDemoProcess({ DEMO_WARM: 'off', DEMO_SEED_CONVERSATIONS: '10000' });
try {
  const warm = await runLoad({
    targets: [demo.url],
    concurrency: 16,
    maxRequests: 10_000,
    phases: [{ name: 'warm-up', durationMs: 120_000 }],
  });
  const before = await historyReadCounts(demo.url);
  const r = await runLoad({
    targets: [demo.url],
    concurrency: 16,
    seed: 43,
    phases: [{ name: 'steady', durationMs: 15_000 }],
  });
  const hr = hitRatio(before, await historyReadCounts(demo.url));
  console.log(
    `cold caches, chat-history (10,000 conversations, Zipf 1.1, 90/10), after ${warm.total.requests} warm-up operations`,
  );
  console.table([
    {
      'history reads': hr.reads,
      'hit ratio': `${(hr.ratio * 100).toFixed(1)}%`,
      'from L1': hr.byResult.l1 ?? 0,
      'from database': hr.byResult.factory ?? 0,
      'req/s': r.total.requestsPerSecond.toFixed(0),
      'p99 ms': r.total.latencyMs.p99?.toFixed(1),
      errors: r.total.errors,
      'stale reads': r.total.staleReads,
    },
  ]);
} finally {
  await demo.stop();
}
process.exit(0);
