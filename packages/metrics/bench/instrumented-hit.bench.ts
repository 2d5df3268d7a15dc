/**
 * What @perf/metrics adds to a cache hit (docs/workloads.md "hot-path micro": 1,000 keys, values
 * `{ id: 1, text: 'hello world' }`, sequential awaits, alternating rounds, median).
 * Uses the real @perf/cache (in-process L1 only). Target: instrumented ≤ 1.3 × (uninstrumented + one
 * direct prom-client `inc` with 3 labels).
 *
 * Metrics are subscribed only during the instrumented contender's rounds (created at the first
 * operation of its round, closed at the first operation of the next contender's round; that
 * create/close cost is charged to the rounds, which only makes the instrumented numbers worse).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { createCache } from '@perf/cache';
import { CHANNEL_NAMES } from '@perf/core';
import { Counter, Histogram, Registry } from 'prom-client';
import { compare } from '../../../tooling/bench.js';
import { createMetrics, type Metrics } from '../src/index.js';

const KEYS = 1000;
const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
const cache = createCache({ namespace: 'bench', l2: false, defaultTtlMs: 3_600_000 });
for (const k of keys) await cache.set(k, { id: 1, text: 'hello world' });

const registry = new Registry();
const direct = new Counter({
  name: 'direct_cache_lookups_total',
  help: 'direct prom-client counter',
  labelNames: ['namespace', 'tier', 'result'],
  registers: [registry],
});
const directHistogram = new Histogram({
  name: 'direct_cache_operation_duration_seconds',
  help: 'direct prom-client histogram',
  labelNames: ['namespace', 'operation', 'result'],
  registers: [registry],
});
const labels = { namespace: 'bench', tier: 'l1', result: 'hit' };
const hLabels = { namespace: 'bench', operation: 'get', result: 'l1' };

let metrics: Metrics | undefined;
let metricsLatency: boolean | undefined;
let closing: Promise<void> | undefined;
let noopOn = false;
const noop = () => {};
const want = (on: boolean, noopSubscribers = false, cacheOperationLatency = true) => {
  if (metrics && (!on || metricsLatency !== cacheOperationLatency)) {
    closing = metrics.close();
    metrics = undefined;
  }
  if (on && !metrics) {
    metrics = createMetrics({ cacheOperationLatency });
    metricsLatency = cacheOperationLatency;
  }
  if (noopSubscribers !== noopOn) {
    for (const n of CHANNEL_NAMES) {
      if (noopSubscribers) diagnosticsChannel.subscribe(n, noop);
      else diagnosticsChannel.unsubscribe(n, noop);
    }
    noopOn = noopSubscribers;
  }
};

const ITERATIONS = 100_000;
const results = await compare(
  'cache hit (real @perf/cache, L1), with and without @perf/metrics',
  [
    {
      name: 'cache.get hit, uninstrumented',
      fn: (i) => {
        if (i === 0) want(false);
        return cache.get(keys[i % KEYS]!);
      },
    },
    {
      name: 'uninstrumented + direct counter.inc (3 labels)',
      fn: (i) => {
        if (i === 0) want(false);
        direct.inc(labels);
        return cache.get(keys[i % KEYS]!);
      },
    },
    {
      name: 'uninstrumented + direct inc + direct histogram.observe',
      fn: (i) => {
        if (i === 0) want(false);
        direct.inc(labels);
        directHistogram.observe(hLabels, 0.0001);
        return cache.get(keys[i % KEYS]!);
      },
    },
    {
      name: 'cache.get hit, empty subscribers on every channel',
      fn: (i) => {
        if (i === 0) want(false, true);
        return cache.get(keys[i % KEYS]!);
      },
    },
    {
      name: 'cache.get hit, instrumented by @perf/metrics',
      fn: (i) => {
        if (i === 0) want(true);
        return cache.get(keys[i % KEYS]!);
      },
    },
    {
      name: 'instrumented, cacheOperationLatency: false',
      fn: (i) => {
        if (i === 0) want(true, false, false);
        return cache.get(keys[i % KEYS]!);
      },
    },
  ],
  { iterations: ITERATIONS },
);
want(false);
await closing;
const [bare, withInc, withBoth, subscribed, instrumented, noLatency] = results.map((r) => r.nsPerOp) as [
  number,
  number,
  number,
  number,
  number,
  number,
];
console.log(
  `  → instrumented / (uninstrumented + one direct inc) = ${(instrumented / withInc).toFixed(2)}x (target ≤ 1.30x)`,
);
console.log(
  `  → instrumented / (uninstrumented + direct inc + direct observe) = ${(instrumented / withBoth).toFixed(2)}x; metrics add ${(instrumented - bare).toFixed(0)} ns per hit`,
);
console.log(
  `  → with cacheOperationLatency: false (no cache latency histogram): ${(noLatency / withInc).toFixed(2)}x (uninstrumented + one direct inc)`,
);
console.log(
  `  → of which the cache's own observed path (empty subscribers) adds ${(subscribed - bare).toFixed(0)} ns and @perf/metrics' handlers ${(instrumented - subscribed).toFixed(0)} ns`,
);
console.log(
  '  note: an instrumented hit publishes two events (perf:cache:hit and perf:cache:operation with its duration, which feeds a histogram and a latency window), and the cache times each call (two performance.now() reads) while perf:cache:operation has subscribers.',
);
await cache.close();
