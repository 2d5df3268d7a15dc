/**
 * Bytes per L1-resident entry, side by side with raw lru-cache: 100,000 small entries
 * (`{ id, text: 'hello world' }` under `conversation:<i>`), retained memory after a forced GC: the JS heap
 * plus ArrayBuffer backing stores (`arrayBuffers`), which `heapUsed` leaves out and where both lru-cache
 * and our L1 keep their per-slot typed arrays. Each
 * measurement runs in a fresh child process (so one contender's garbage or heap growth cannot
 * count against another); keys and values are counted, since every contender holds them. Rounds
 * alternate contenders; the median is printed with the ratio to raw lru-cache.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { type CreateCacheOptions, createCache } from '../src/index.js';

const N = 100_000;
const ROUNDS = 3;

const perf: Record<string, CreateCacheOptions> = {
  '@perf/cache default (L1; L2 off)': { l1: { maxEntries: N } },
  '@perf/cache L1 with maxBytes': { l1: { maxEntries: N, maxBytes: 1 << 30 } },
  '@perf/cache L1 + in-process L2 (old default; l2: {})': { l1: { maxEntries: N }, l2: { maxEntries: N } },
};
const names = ['raw lru-cache 11', ...Object.keys(perf)];

async function measure(name: string): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const heap = () => {
    for (let i = 0; i < 3; i++) gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const before = heap();
  let held: unknown;
  if (name === names[0]) {
    const lru = new LRUCache<string, object>({ max: N });
    for (let i = 0; i < N; i++) lru.set(`conversation:${i}`, { id: i, text: 'hello world' });
    held = lru;
  } else {
    const cache = createCache(perf[name]);
    for (let i = 0; i < N; i++) await cache.set(`conversation:${i}`, { id: i, text: 'hello world' });
    held = cache;
  }
  const after = heap();
  if (held === undefined) throw new Error('unreachable');
  return (after - before) / N;
}

const child = process.argv[2];
if (child !== undefined) {
  console.log(JSON.stringify(await measure(child)));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const results = new Map<string, number[]>(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const name of names) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', self, name], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
    results.get(name)!.push(Number(r.stdout.trim().split('\n').pop()));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.get(names[0]!)!);
console.log(
  `\nretained heap + array buffers per entry, ${N.toLocaleString('en-US')} entries, median of ${ROUNDS} rounds (fresh process each)`,
);
console.log(`${'contender'.padEnd(54)} ${'B/entry'.padStart(8)} ${'vs lru'.padStart(7)}`);
for (const name of names) {
  const b = median(results.get(name)!);
  console.log(`${name.padEnd(54)} ${b.toFixed(0).padStart(8)} ${`${(b / base).toFixed(2)}x`.padStart(7)}`);
}
