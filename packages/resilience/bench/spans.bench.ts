/**
 * What tracing costs a closed breaker's `execute`, with an SDK registered (BasicTracerProvider,
 * AsyncLocalStorage context manager, a processor that drops every span): no active span, an
 * unsampled parent (both: no span object, one check) and a sampled parent (a `breaker call` span
 * per call). Baseline: raw cockatiel `execute` under the same parent states.
 */
import { context, TraceFlags, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { compare } from '../../../tooling/bench.js';
import { createCircuitBreaker } from '../src/index.js';

const drop: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};
const provider = new BasicTracerProvider({ spanProcessors: [drop] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);

const values = Array.from({ length: 1000 }, () => ({ id: 1, text: 'hello world' }));
const upstream = (i: number) => Promise.resolve(values[i % 1000]!);
const raw = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
const ours = createCircuitBreaker({ name: 'bench', failureThreshold: 5, halfOpenAfterMs: 60_000 });

const sampledCtx = trace.setSpan(context.active(), provider.getTracer('bench').startSpan('request'));
const unsampledCtx = trace.setSpan(
  context.active(),
  trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.NONE,
  }),
);

await compare(
  'closed breaker execute with an SDK registered',
  [
    { name: 'raw cockatiel, no parent', fn: (i) => raw.execute(() => upstream(i)) },
    { name: '@perf/resilience, no parent', fn: (i) => ours.execute(() => upstream(i)) },
    {
      name: 'raw cockatiel, unsampled parent',
      fn: (i) => context.with(unsampledCtx, () => raw.execute(() => upstream(i))),
    },
    {
      name: '@perf/resilience, unsampled parent',
      fn: (i) => context.with(unsampledCtx, () => ours.execute(() => upstream(i))),
    },
    {
      name: '@perf/resilience, sampled parent (span per call)',
      fn: (i) => context.with(sampledCtx, () => ours.execute(() => upstream(i))),
    },
  ],
  { iterations: 20_000, rounds: 9 },
);
await provider.shutdown();
