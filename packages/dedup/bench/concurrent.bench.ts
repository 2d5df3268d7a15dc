/**
 * 10,000 concurrent identical calls (the stampede check): `fn` must run exactly once, and
 * memory and handles must return to where they started (no leaked keys, listeners or timers).
 * Each round: 10,000 `run('hot', fn)` at once, `fn` resolves after 20 ms; then gc and measure.
 * Also with every caller passing its own AbortSignal + timeoutMs (listeners and timers per caller).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Deduplicator } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (pnpm bench does)');
const N = 10_000;

function settle(): void {
  for (let i = 0; i < 3; i++) gc!();
}

async function round(dedup: Deduplicator, withOptions: boolean) {
  let runs = 0;
  const fn = async () => {
    runs++;
    await sleep(20);
    return { id: 1, text: 'hello world' };
  };
  const controller = new AbortController();
  const options = withOptions ? { signal: controller.signal, timeoutMs: 60_000 } : undefined;
  const started = performance.now();
  const calls: Promise<unknown>[] = new Array(N);
  for (let i = 0; i < N; i++) calls[i] = dedup.run('hot', fn, options);
  const queued = performance.now();
  await Promise.all(calls);
  const done = performance.now();
  return { runs, enqueueNsPerCall: ((queued - started) * 1e6) / N, totalMs: done - started };
}

for (const withOptions of [false, true]) {
  const dedup = new Deduplicator({ timeoutMs: 30_000 });
  await round(dedup, withOptions); // warm-up
  settle();
  const heapBefore = process.memoryUsage().heapUsed;
  const handlesBefore = process.getActiveResourcesInfo().length;
  const rounds = [];
  for (let r = 0; r < 5; r++) rounds.push(await round(dedup, withOptions));
  settle();
  const heapAfter = process.memoryUsage().heapUsed;
  const handlesAfter = process.getActiveResourcesInfo().length;
  const s = dedup.stats();
  console.log(
    `\n10,000 concurrent identical calls x 5 rounds${withOptions ? ' (each caller with signal + timeoutMs)' : ''}`,
  );
  console.log(`  fn runs per round:        ${rounds.map((r) => r.runs).join(', ')}`);
  console.log(
    `  join cost (ns/call):      ${rounds.map((r) => r.enqueueNsPerCall.toFixed(0)).join(', ')}   (run() calls while one is in flight)`,
  );
  console.log(`  round time (ms, fn=20ms): ${rounds.map((r) => r.totalMs.toFixed(1)).join(', ')}`);
  console.log(
    `  in flight after:          ${s.inFlight}   followers: ${s.followers}   leaders: ${s.leaders}`,
  );
  console.log(
    `  heap before/after (MB):   ${(heapBefore / 1048576).toFixed(2)} / ${(heapAfter / 1048576).toFixed(2)}  (delta ${((heapAfter - heapBefore) / 1024).toFixed(0)} KB)`,
  );
  console.log(`  active handles before/after: ${handlesBefore} / ${handlesAfter}`);
  await dedup.close();
}
