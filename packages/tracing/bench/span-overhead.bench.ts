/**
 * What one instrumented call costs, side by side with the raw OpenTelemetry SDK in one process:
 * 1. no SDK registered (the API's no-op) vs the same call uninstrumented (target ≤ 50 ns more);
 * 2. SDK registered, span sampled out: @perf/tracing vs raw SDK (target ≤ 1 µs);
 * 3. sampled in: @perf/tracing vs raw SDK doing the same spans (target ≤ 1.2x).
 * The instrumented call is the shape @perf services use: startActiveSpan, two attributes, end.
 * Raw contenders use their own NodeTracerProvider (same batch processor settings, a discarding
 * exporter, ParentBased(TraceIdRatio) sampler); ours goes through setupTracing's global
 * provider, its counting sampler, redaction and bounded queue.
 */
import { type Span, type Tracer, trace } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { compare } from '../../../tooling/bench.js';
import { type SpanExporter, setupTracing } from '../src/index.js';

const ITERATIONS = 20_000;
const discard: SpanExporter = { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} };

let sink = 0;
const work = (i: number) => {
  sink = (sink + i * 31) % 1_000_003;
  return sink;
};
const instrumented = (tracer: Tracer, i: number) =>
  tracer.startActiveSpan('cache.get', (span: Span) => {
    span.setAttribute('cache.namespace', 'bench');
    span.setAttribute('cache.tier', 'l1');
    const r = work(i);
    span.end();
    return r;
  });

// The shape @perf services use on hot paths: a plain span, attributes only when it records.
const guarded = (tracer: Tracer, i: number) => {
  const span = tracer.startSpan('cache.get');
  if (span.isRecording()) {
    span.setAttribute('cache.namespace', 'bench');
    span.setAttribute('cache.tier', 'l1');
  }
  const r = work(i);
  span.end();
  return r;
};

// 1. No SDK: the API's no-op tracer.
const noopTracer = trace.getTracer('bench');
const noSdk = await compare(
  'no SDK registered (no-op API) vs uninstrumented',
  [
    { name: 'uninstrumented call', fn: (i) => work(i) },
    { name: 'startActiveSpan, no SDK (no-op API)', fn: (i) => instrumented(noopTracer, i) },
    { name: 'startSpan + isRecording guard, no SDK', fn: (i) => guarded(noopTracer, i) },
  ],
  { iterations: ITERATIONS * 10 },
);
console.log(
  `  → no-op API adds ${(noSdk[1]!.nsPerOp - noSdk[0]!.nsPerOp).toFixed(1)} ns per call with startActiveSpan, ${(noSdk[2]!.nsPerOp - noSdk[0]!.nsPerOp).toFixed(1)} ns with the guarded startSpan @perf services use (target ≤ 50 ns)`,
);

function rawProvider(ratio: number) {
  const provider = new NodeTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [
      new BatchSpanProcessor(discard as never, {
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 5000,
      }),
    ],
  });
  return { provider, tracer: provider.getTracer('bench') };
}

for (const ratio of [0, 1]) {
  const ours = setupTracing({ serviceName: 'bench', exporter: discard, sampler: ratio });
  const oursTracer = trace.getTracer('bench');
  const raw = rawProvider(ratio);
  const label = ratio === 0 ? 'sampled out' : 'sampled in';
  const results = await compare(
    `SDK registered, span ${label} (ratio ${ratio}): @perf/tracing vs raw OpenTelemetry SDK`,
    [
      { name: `raw SDK, ${label}`, fn: (i) => instrumented(raw.tracer, i) },
      { name: `@perf/tracing, ${label}`, fn: (i) => instrumented(oursTracer, i) },
      { name: 'uninstrumented call', fn: (i) => work(i) },
      { name: `raw SDK, guarded startSpan, ${label}`, fn: (i) => guarded(raw.tracer, i) },
      { name: `@perf/tracing, guarded startSpan, ${label}`, fn: (i) => guarded(oursTracer, i) },
    ],
    { iterations: ITERATIONS },
  );
  const guardedRaw = results[3]!;
  const guardedOurs = results[4]!;
  const [rawR, oursR, bare] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  if (ratio === 0) {
    console.log(
      `  → @perf/tracing sampled out: ${(oursR.nsPerOp - bare.nsPerOp).toFixed(0)} ns over uninstrumented with startActiveSpan, ${(guardedOurs.nsPerOp - bare.nsPerOp).toFixed(0)} ns guarded (target ≤ 1000 ns); ${oursR.ratio.toFixed(2)}x / ${(guardedOurs.nsPerOp / guardedRaw.nsPerOp).toFixed(2)}x raw`,
    );
  } else {
    console.log(
      `  → @perf/tracing sampled in / raw SDK = ${oursR.ratio.toFixed(2)}x with startActiveSpan, ${(guardedOurs.nsPerOp / guardedRaw.nsPerOp).toFixed(2)}x guarded (target ≤ 1.20x)`,
    );
  }
  console.log(`    (raw SDK itself: ${(rawR.nsPerOp - bare.nsPerOp).toFixed(0)} ns over uninstrumented)`);
  await ours.shutdown();
  await raw.provider.shutdown();
}
