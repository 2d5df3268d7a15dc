/**
 * Side-by-side micro-benchmarks as docs/workloads.md "hot-path micro" asks: contenders alternate
 * round by round (A B A B ...), each round times `iterations` sequential calls (promises are
 * awaited before the next call; synchronous results are not), and the
 * median round is reported in ns per operation with ratios against the first contender (the
 * baseline, usually the raw dependency).
 */
import { performance } from 'node:perf_hooks';

export interface Contender {
  name: string;
  /** One operation; `i` cycles through 0..iterations-1 so tasks can walk a key set. */
  fn: (i: number) => unknown;
  setup?: () => unknown;
}

export interface CompareOptions {
  /** Operations per round. */
  iterations?: number;
  /** Rounds per contender; the median is reported. At least 5. */
  rounds?: number;
  /** Untimed rounds per contender first, to let the JIT settle. */
  warmupRounds?: number;
}

export interface CompareResult {
  name: string;
  nsPerOp: number;
  ratio: number;
}

export async function compare(
  title: string,
  contenders: Contender[],
  options: CompareOptions = {},
): Promise<CompareResult[]> {
  const iterations = options.iterations ?? 10_000;
  const rounds = Math.max(5, options.rounds ?? 9);
  const warmupRounds = options.warmupRounds ?? 2;
  for (const c of contenders) await c.setup?.();
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = -warmupRounds; round < rounds; round++) {
    for (const c of contenders) {
      const start = performance.now();
      for (let i = 0; i < iterations; i++) {
        const result = c.fn(i);
        // Await only what is awaitable, so synchronous contenders are not charged a microtask.
        if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') await result;
      }
      const ns = ((performance.now() - start) * 1e6) / iterations;
      if (round >= 0) samples.get(c.name)!.push(ns);
    }
  }
  const results = contenders.map((c) => ({ name: c.name, nsPerOp: median(samples.get(c.name)!), ratio: 0 }));
  const base = results[0]!.nsPerOp;
  for (const r of results) r.ratio = r.nsPerOp / base;
  printTable(title, results, { iterations, rounds });
  return results;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function printTable(
  title: string,
  results: CompareResult[],
  meta: { iterations: number; rounds: number },
): void {
  console.log(`\n${title}  (median of ${meta.rounds} alternating rounds x ${meta.iterations} ops)`);
  const width = Math.max(...results.map((r) => r.name.length), 10);
  console.log(`  ${'contender'.padEnd(width)}  ${'ns/op'.padStart(10)}  ${'vs first'.padStart(9)}`);
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(width)}  ${r.nsPerOp.toFixed(1).padStart(10)}  ${`${r.ratio.toFixed(2)}x`.padStart(9)}`,
    );
  }
}
