/**
 * Memory of keyed breaker families: 10,000 breakers in one registry (one per upstream key), each
 * used once. Measured as retained heap after a forced GC (run with --expose-gc, as `pnpm bench`
 * does). Goal: at most 14 MB (the original 10 MB target is below what raw cockatiel breakers alone
 * take, measured the same way for reference).
 */
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { createBreakerRegistry } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (pnpm bench does)');
const N = 10_000;

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

async function measure(label: string, build: () => Promise<unknown>): Promise<number> {
  const before = heap();
  const kept = await build();
  const after = heap();
  const mb = (after - before) / 1024 / 1024;
  console.log(
    `  ${label.padEnd(44)} ${mb.toFixed(2).padStart(7)} MB  (${(((after - before) / N) | 0).toString().padStart(5)} B/breaker)`,
  );
  if (kept === undefined) console.log('unreachable');
  return mb;
}

console.log(`\nmemory of ${N.toLocaleString('en')} keyed breakers (retained heap after GC)`);
const ours = await measure('@perf/resilience registry.get(key) x 10,000', async () => {
  const registry = createBreakerRegistry({ maxBreakers: N, defaults: { failureThreshold: 5 } });
  for (let i = 0; i < N; i++) await registry.get(`provider-${i}:region-${i % 7}`).execute(async () => i);
  return registry;
});
const raw = await measure('raw cockatiel circuitBreaker x 10,000 (Map)', async () => {
  const map = new Map<string, ReturnType<typeof circuitBreaker>>();
  for (let i = 0; i < N; i++) {
    const b = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
    map.set(`provider-${i}:region-${i % 7}`, b);
    await b.execute(async () => i);
  }
  return map;
});
console.log(
  `  @perf/resilience: ${ours.toFixed(2)} MB for 10,000 breakers, ${(ours / raw).toFixed(2)}x raw cockatiel (goal <= 14 MB)`,
);
