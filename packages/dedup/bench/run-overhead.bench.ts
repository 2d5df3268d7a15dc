/**
 * Hot-path micro (docs/workloads.md): sequential awaited calls over 1,000 keys, so each call finds no call
 * in flight (a leader every time: the cost every request pays). Contenders alternate round by round.
 *
 *   direct await        `await fn()`: the floor
 *   map singleflight    the minimal Map-based singleflight (get, set, finally-delete)
 *   opossum coalesce    opossum 9 CircuitBreaker with `coalesce: true` (its in-flight coalescing)
 *   Deduplicator        `dedup.run(key, fn)` with defaults (spans on, in-flight limit on)
 *   Deduplicator+signal `fn` declares a signal parameter, so an AbortSignal is built per call
 *   Deduplicator+opts   the caller passes its own signal and timeoutMs (a timer per call)
 */
import CircuitBreaker from 'opossum';
import { compare } from '../../../tooling/bench.js';
import { Deduplicator } from '../src/index.js';

const KEYS = Array.from({ length: 1000 }, (_, i) => `user:${i}:profile`);
const VALUE = { id: 1, text: 'hello world' };
const fn = () => Promise.resolve(VALUE);
const fnWithSignal = (_signal: AbortSignal) => Promise.resolve(VALUE);

const inFlight = new Map<string, Promise<unknown>>();
function mapSingleflight<T>(key: string, f: () => Promise<T>): Promise<T> {
  const existing = inFlight.get(key);
  if (existing) return existing as Promise<T>;
  const p = f().finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}

// opossum 9's coalescing options are newer than @types/opossum 8, hence the cast.
const breaker = new CircuitBreaker((_key: string) => fn(), {
  coalesce: true,
  coalesceResetOn: ['success', 'error', 'timeout'],
  cacheGetKey: (key: string) => key,
  timeout: false,
  enableSnapshots: false,
} as unknown as CircuitBreaker.Options<[string]>);

const dedup = new Deduplicator();
const callerSignal = new AbortController().signal;
const runOptions = { signal: callerSignal, timeoutMs: 10_000 };

const results = await compare(
  'run() overhead, unique keys (hot-path micro)',
  [
    { name: 'direct await', fn: () => fn() },
    { name: 'map singleflight', fn: (i) => mapSingleflight(KEYS[i % 1000]!, fn) },
    { name: 'opossum coalesce', fn: (i) => breaker.fire(KEYS[i % 1000]!) },
    { name: 'Deduplicator.run', fn: (i) => dedup.run(KEYS[i % 1000]!, fn) },
    { name: 'Deduplicator.run, fn(signal)', fn: (i) => dedup.run(KEYS[i % 1000]!, fnWithSignal) },
    { name: 'Deduplicator.run + signal+timeoutMs', fn: (i) => dedup.run(KEYS[i % 1000]!, fn, runOptions) },
  ],
  { iterations: 20_000, rounds: 9 },
);

const direct = results[0]!.nsPerOp;
console.log('\n  overhead over direct await (ns/call):');
for (const r of results.slice(1)) console.log(`    ${r.name.padEnd(36)} ${(r.nsPerOp - direct).toFixed(1)}`);
breaker.shutdown();
dedup.close();
