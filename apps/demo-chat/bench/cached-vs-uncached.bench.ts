/**
 * Cached history reads vs the same app with caching off (every read goes to the database), same
 * process, same seeded Zipf read workload (chat-history, reads only), rounds alternating A B A B.
 * Reports median throughput and p99 per contender and the ratio.
 */
import { startDemo } from '../src/demo-app.js';
import { runLoad } from '../src/load/load-generator.js';

const CONVERSATIONS = 2_000;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 3_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 16;

const common = {
  port: 0,
  logLevel: 'warn' as const,
  seedConversations: CONVERSATIONS,
  requestLogging: false,
};
const [cached, uncached] = await Promise.all([
  startDemo({ ...common }),
  startDemo({ ...common, caching: false }),
]);
await Promise.all([cached.ready, uncached.ready]);

const results: Record<string, Array<{ rps: number; p99: number }>> = { cached: [], 'caching off': [] };
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, demo] of [
    ['cached', cached],
    ['caching off', uncached],
  ] as const) {
    const r = await runLoad({
      targets: [demo.url],
      conversations: CONVERSATIONS,
      concurrency: CONCURRENCY,
      writeRatio: 0,
      burstProbability: 0,
      seed: 42 + round,
      phases: [{ name: 'reads', durationMs: ROUND_MS }],
    });
    if (r.total.errors > 0) throw new Error(`${name}: ${r.total.errors} errors`);
    if (round > 0) results[name]!.push({ rps: r.total.requestsPerSecond, p99: r.total.latencyMs.p99 ?? 0 }); // round 0 warms up
  }
}
await Promise.all([cached.close(), uncached.close()]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const row = (name: string) => {
  const rs = results[name]!;
  return { name, rps: median(rs.map((x) => x.rps)), p99: median(rs.map((x) => x.p99)) };
};
const a = row('cached');
const b = row('caching off');
console.log(
  `history reads, ${CONCURRENCY} concurrent, ${CONVERSATIONS} conversations Zipf 1.1, embedded PGlite, median of ${ROUNDS} rounds of ${ROUND_MS} ms`,
);
console.table([
  { contender: a.name, 'req/s': a.rps.toFixed(0), 'p99 ms': a.p99.toFixed(1), ratio: '1.00x' },
  {
    contender: b.name,
    'req/s': b.rps.toFixed(0),
    'p99 ms': b.p99.toFixed(1),
    ratio: `${(b.rps / a.rps).toFixed(2)}x`,
  },
]);
console.log(
  `cached/uncached throughput: ${(a.rps / b.rps).toFixed(2)}x; p99 ${a.p99.toFixed(1)} ms vs ${b.p99.toFixed(1)} ms`,
);
process.exit(0);
