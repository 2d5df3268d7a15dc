/**
 * What publishing costs when nobody listens (the normal case for a service without @perf/metrics):
 * one `hasSubscribers` read. Compared with an empty function call and with always publishing.
 */
import { compare } from '../../../tooling/bench.js';
import { channels, publish } from '../src/index.js';

const ch = channels.cache.hit;
let sink = 0;
const noop = (x: number) => {
  sink += x;
};

await compare(
  'event path with no subscriber',
  [
    { name: 'empty function call', fn: (i) => noop(i) },
    {
      name: 'if (ch.hasSubscribers) publish',
      fn: (i) => {
        if (ch.hasSubscribers) ch.publish({ namespace: 'n', key: 'k', tier: 'l1' });
        sink += i;
      },
    },
    {
      name: 'publish(ch, () => payload)',
      fn: () => publish(ch, () => ({ namespace: 'n', key: 'k', tier: 'l1' })),
    },
  ],
  { iterations: 1_000_000 },
);
if (sink < 0) console.log(sink);
