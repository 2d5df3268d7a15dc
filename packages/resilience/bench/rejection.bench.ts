/**
 * Rejection while open: the cost of refusing a call when the upstream is down (the hot path of
 * an outage). Every contender is open for the whole run; each op is one refused call, awaited
 * and caught. Target: @perf/resilience <= 1 us per rejection.
 */
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import CircuitBreaker from 'opossum';
import { compare } from '../../../tooling/bench.js';
import { createCircuitBreaker } from '../src/index.js';

const fail = () => Promise.reject(new Error('down'));
const noop = () => undefined;

const raw = circuitBreaker(handleAll, { halfOpenAfter: 3_600_000, breaker: new ConsecutiveBreaker(1) });
await raw.execute(fail).catch(noop);
const ours = createCircuitBreaker({ name: 'bench-open', failureThreshold: 1, halfOpenAfterMs: 3_600_000 });
await ours.execute(fail).catch(noop);
const opossum = new CircuitBreaker(fail, { timeout: false, resetTimeout: 3_600_000, volumeThreshold: 0 });
opossum.open();
if (ours.state !== 'open') throw new Error('breaker did not open');

const results = await compare(
  'rejection while open',
  [
    { name: 'raw cockatiel execute (open)', fn: () => raw.execute(fail).catch(noop) },
    { name: '@perf/resilience execute (open)', fn: () => ours.execute(fail).catch(noop) },
    { name: 'opossum 9 fire (open)', fn: () => opossum.fire().catch(noop) },
  ],
  { iterations: 20_000, rounds: 9 },
);
const mine = results.find((r) => r.name.startsWith('@perf'))!;
console.log(`  @perf/resilience rejection: ${(mine.nsPerOp / 1000).toFixed(2)} us per call (target <= 1 us)`);
opossum.shutdown();
