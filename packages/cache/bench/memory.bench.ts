/**
 * 1,000,000 distinct keys written and read through a cache whose L1 holds 10,000 entries, then
 * 500,000 through L1 + an in-process L2 (`l2: {}`, 100,000 entries; shorter, to keep the run under
 * two minutes): RSS and heap must stay flat once the bounds fill. Prints RSS/heap after a forced
 * GC at each 100,000 keys.
 */
import { createCache } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
function sample(label: string): { rss: number; heap: number } {
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`  ${label.padEnd(18)} rss ${mb(rss).padStart(9)}   heapUsed ${mb(heapUsed).padStart(9)}`);
  return { rss, heap: heapUsed };
}

for (const [title, options, total] of [
  ['L1 only (10,000 entries)', { l1: { maxEntries: 10_000 }, l2: false as const }, 1_000_000],
  ['L1 10,000 + in-process L2 (100,000)', { l1: { maxEntries: 10_000 }, l2: {} }, 500_000],
] as const) {
  const cache = createCache({ ...options, defaultTtlMs: 3_600_000 });
  console.log(`\n${total.toLocaleString('en-US')} distinct keys through ${title}`);
  const start = sample('before');
  let afterFill = start;
  for (let i = 1; i <= total; i++) {
    const key = `conversation:${i}`;
    await cache.set(key, { id: i, text: 'hello world' });
    await cache.get(key);
    if (i % 100_000 === 0) {
      const s = sample(`${i.toLocaleString('en-US')} keys`);
      if (i === 200_000) afterFill = s;
    }
  }
  const end = sample('end');
  console.log(
    `  growth from 200,000 to ${total.toLocaleString('en-US')} keys: rss ${mb(end.rss - afterFill.rss)}, heap ${mb(end.heap - afterFill.heap)}`,
  );
  await cache.close();
}
process.exit(0);
