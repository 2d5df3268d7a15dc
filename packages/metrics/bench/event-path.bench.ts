/**
 * The event path when nobody listens (a service without @perf/metrics, or after `metrics.close()`):
 * the `hasSubscribers` check @perf services make before building a payload. Target: ≤ 20 ns.
 * Also: the same publish with @perf/metrics subscribed (the cost moves to the handler).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { CHANNEL_NAMES, channels } from '@perf/core';
import { compare } from '../../../tooling/bench.js';
import { createMetrics } from '../src/index.js';

const ch = channels.cache.hit;
let sink = 0;
const noop = (x: number) => {
  sink += x;
};

// Subscribe and close again, so the measured path is "after close()".
await createMetrics().close();
if (CHANNEL_NAMES.some((n) => diagnosticsChannel.hasSubscribers(n)))
  throw new Error('close() left a subscriber');

const results = await compare(
  'event path with no subscriber (after createMetrics().close())',
  [
    { name: 'empty function call', fn: (i) => noop(i) },
    {
      name: 'if (ch.hasSubscribers) publish(payload)',
      fn: (i) => {
        if (ch.hasSubscribers) ch.publish({ namespace: 'n', key: 'k', tier: 'l1' });
        sink += i;
      },
    },
  ],
  { iterations: 1_000_000 },
);
const extra = results[1]!.nsPerOp - results[0]!.nsPerOp;
console.log(
  `  → no-subscriber event path: ${results[1]!.nsPerOp.toFixed(1)} ns/op (${extra.toFixed(1)} ns over an empty call); target ≤ 20 ns`,
);

const metrics = createMetrics();
await compare(
  'cache hit event published to @perf/metrics (counter + 15-min window, cardinality-guarded)',
  [
    { name: 'empty function call', fn: (i) => noop(i) },
    {
      name: 'publish hit event (metrics subscribed)',
      fn: () => {
        if (ch.hasSubscribers) ch.publish({ namespace: 'n', key: 'k', tier: 'l1' });
      },
    },
  ],
  { iterations: 200_000 },
);
await metrics.close();
if (sink < 0) console.log(sink);
