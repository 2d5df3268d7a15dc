/**
 * docs/workloads.md "hot-path micro" for a closed breaker: sequential awaited calls of an async
 * function returning `{ id: 1, text: 'hello world' }` (1,000 distinct values), contenders
 * alternating round by round, median of 9 rounds. Baseline: raw cockatiel `execute`.
 */
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import CircuitBreaker from 'opossum';
import { compare } from '../../../tooling/bench.js';
import { createCircuitBreaker } from '../src/index.js';

const values = Array.from({ length: 1000 }, () => ({ id: 1, text: 'hello world' }));
const upstream = (i: number) => Promise.resolve(values[i % 1000]!);

const raw = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
const ours = createCircuitBreaker({ name: 'bench', failureThreshold: 5, halfOpenAfterMs: 60_000 });
// opossum's per-call timeout timer is turned off so every contender does the same work.
const opossum = new CircuitBreaker(upstream, {
  timeout: false,
  errorThresholdPercentage: 50,
  resetTimeout: 60_000,
});

await compare(
  'closed breaker execute (hot-path micro)',
  [
    { name: 'raw cockatiel execute', fn: (i) => raw.execute(() => upstream(i)) },
    { name: '@perf/resilience execute', fn: (i) => ours.execute(() => upstream(i)) },
    { name: 'opossum 9 fire', fn: (i) => opossum.fire(i) },
    { name: 'bare await fn()', fn: (i) => upstream(i) },
  ],
  { iterations: 20_000, rounds: 9 },
);
opossum.shutdown();
