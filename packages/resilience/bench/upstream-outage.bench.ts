/**
 * docs/workloads.md "upstream-outage (breaker)": a local HTTP upstream on 127.0.0.1 answering in 20 ms;
 * at t = 10 s it fails every call for 20 s, then recovers; 200 requests per second for 45 s.
 * The same traffic goes to a second, identical upstream without a breaker (the control).
 *
 * Reports calls that reached the upstream while it was down, user-facing errors, fallbacks served
 * and the time from recovery to closed. OUTAGE_SCALE shortens every duration (the rate stays 200/s):
 * `OUTAGE_SCALE=0.2 pnpm --filter @perf/resilience bench outage` runs 9 s instead of 45 s.
 */
import { channels } from '@perf/core';
import { createCircuitBreaker } from '../src/index.js';
import { getJson, startFlakyUpstream } from '../test/support/flaky-upstream.js';

const scale = Number(process.env.OUTAGE_SCALE ?? 1);
if (!(scale > 0 && scale <= 1)) throw new Error('OUTAGE_SCALE must be in (0, 1]');
const RATE = 200;
const TOTAL_MS = 45_000 * scale;
const DOWN_AT = 10_000 * scale;
const UP_AT = 30_000 * scale;
const HALF_OPEN_AFTER = 5_000 * scale;

const guarded = await startFlakyUpstream(20);
const control = await startFlakyUpstream(20);

const store = new Map<string, unknown>();
const staleCache = {
  get: async (key: string) => store.get(key),
  set: async (key: string, value: unknown) => {
    store.set(key, value);
  },
};
const breaker = createCircuitBreaker({
  name: 'upstream-outage',
  failureThreshold: 5,
  halfOpenAfterMs: HALF_OPEN_AFTER,
  timeoutMs: 1000,
  fallback: { cache: staleCache, key: 'conversation:42', store: true },
});

let recoveredAt = 0;
let closedAfterRecoveryMs: number | undefined;
const onState = (e: { name: string; to: string }) => {
  if (
    e.name === 'upstream-outage' &&
    e.to === 'closed' &&
    recoveredAt > 0 &&
    closedAfterRecoveryMs === undefined
  ) {
    closedAfterRecoveryMs = performance.now() - recoveredAt;
  }
};
channels.breaker.state.subscribe(onState);

const result = {
  guarded: { sent: 0, ok: 0, userErrors: 0, latencies: [] as number[] },
  control: { sent: 0, ok: 0, userErrors: 0, latencies: [] as number[] },
};
const pending = new Set<Promise<unknown>>();

function send(kind: 'guarded' | 'control'): void {
  const r = result[kind];
  r.sent++;
  const t0 = performance.now();
  const call =
    kind === 'guarded'
      ? breaker.execute((signal) => getJson(guarded.url, signal))
      : getJson(control.url, AbortSignal.timeout(1000));
  const p = call.then(
    () => {
      r.ok++;
      r.latencies.push(performance.now() - t0);
    },
    () => {
      r.userErrors++;
      r.latencies.push(performance.now() - t0);
    },
  );
  pending.add(p);
  void p.finally(() => pending.delete(p));
}

console.log(
  `\nupstream-outage: ${RATE} req/s for ${TOTAL_MS / 1000} s, upstream down from ${DOWN_AT / 1000} s to ${UP_AT / 1000} s` +
    ` (scale ${scale}); breaker: failureThreshold 5, halfOpenAfterMs ${HALF_OPEN_AFTER}, timeoutMs 1000, stale-cache fallback`,
);
const start = performance.now();
let sent = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = performance.now() - start;
    if (guarded.mode === 'ok' && elapsed >= DOWN_AT && elapsed < UP_AT) {
      guarded.mode = 'fail';
      control.mode = 'fail';
    } else if (guarded.mode === 'fail' && elapsed >= UP_AT) {
      guarded.mode = 'ok';
      control.mode = 'ok';
      recoveredAt = performance.now();
    }
    const due = Math.min(Math.floor((elapsed * RATE) / 1000), Math.floor((TOTAL_MS * RATE) / 1000));
    for (; sent < due; sent++) {
      send('guarded');
      send('control');
    }
    if (elapsed >= TOTAL_MS) {
      clearInterval(timer);
      resolve();
    }
  }, 5);
});
await Promise.all(pending);
channels.breaker.state.unsubscribe(onState);

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};
const s = breaker.stats();
const rows: Array<[string, string | number, string | number]> = [
  ['requests sent', result.guarded.sent, result.control.sent],
  ['calls that reached the upstream while down', guarded.hits.fail, control.hits.fail],
  ['user-facing errors', result.guarded.userErrors, result.control.userErrors],
  ['fallbacks served (stale cache)', s.fallbacks, '-'],
  ['rejected by the open breaker', s.rejections, '-'],
  [
    'time from recovery to closed',
    closedAfterRecoveryMs === undefined ? 'never' : `${closedAfterRecoveryMs.toFixed(0)} ms`,
    '-',
  ],
  [
    'p50 / p99 latency (ms)',
    `${p(result.guarded.latencies, 0.5).toFixed(1)} / ${p(result.guarded.latencies, 0.99).toFixed(1)}`,
    `${p(result.control.latencies, 0.5).toFixed(1)} / ${p(result.control.latencies, 0.99).toFixed(1)}`,
  ],
];
console.log(`  ${''.padEnd(44)}  ${'with breaker'.padStart(14)}  ${'no breaker'.padStart(12)}`);
for (const [label, a, b] of rows)
  console.log(`  ${label.padEnd(44)}  ${String(a).padStart(14)}  ${String(b).padStart(12)}`);
console.log(
  `  breaker transitions: ${s.transitions}, final state: ${s.state}, elapsed ${((performance.now() - start) / 1000).toFixed(1)} s`,
);
await Promise.all([guarded.close(), control.close()]);
