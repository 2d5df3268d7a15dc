import { Deduplicator } from '../src/index.js';

const dedup = new Deduplicator();
const N = 10000;
const c = new AbortController();
const opts = { signal: c.signal, timeoutMs: 60000 };
let total = 0;
for (let r = 0; r < 30; r++) {
  let release!: () => void;
  const gate = new Promise<void>((res) => {
    release = res;
  });
  const t = performance.now();
  const calls = [];
  for (let i = 0; i < N; i++) calls.push(dedup.run('hot', () => gate, opts));
  total += performance.now() - t;
  release();
  await Promise.all(calls);
}
console.log('ns/join', ((total * 1e6) / N / 30).toFixed(0));
