/**
 * Memory with the exporter's endpoint down, in real time (default 60 s each; set
 * BENCH_DOWN_SECONDS to change): spans are made at a steady rate (default 2,000/s) while the
 * OTLP endpoint refuses connections. The queue must stay bounded (maxQueueSize 2,048) and the
 * spans it cannot hold must be counted. @perf/tracing first, then the raw SDK with the same
 * settings (it bounds the queue too, but only logs how many it dropped). Heap is measured after
 * a forced GC every 5 s.
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { setupTracing } from '../src/index.js';

const SECONDS = Number(process.env.BENCH_DOWN_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_DOWN_RATE ?? 2000);
const url = 'http://127.0.0.1:9/v1/traces'; // discard port: nothing listens, connections are refused
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function drive(label: string, tracer: ReturnType<typeof trace.getTracer>, extra: () => string) {
  gc();
  const base = process.memoryUsage().heapUsed;
  let max = base;
  let made = 0;
  const started = Date.now();
  let nextSample = started + 5000;
  while (Date.now() - started < SECONDS * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * RATE);
    while (made < due) {
      tracer.startSpan('chat.send', { attributes: { 'chat.room': 'r1', 'chat.bytes': 120 } }).end();
      made++;
    }
    if (Date.now() >= nextSample) {
      gc();
      const h = process.memoryUsage().heapUsed;
      max = Math.max(max, h);
      nextSample += 5000;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  gc();
  const end = process.memoryUsage().heapUsed;
  console.log(
    `  ${label.padEnd(16)} spans made ${made.toLocaleString('en')}; heap start ${mb(base)}, max ${mb(max)}, end ${mb(end)} (growth ${mb(end - base)}); ${extra()}`,
  );
}

console.log(
  `\nendpoint down for ${SECONDS} s at ${RATE} spans/s, maxQueueSize 2048 (heap after GC, sampled every 5 s)`,
);
const ours = setupTracing({
  serviceName: 'bench',
  endpoint: url,
  batch: { maxQueueSize: 2048, exportTimeoutMs: 5_000, scheduledDelayMs: 1_000 },
});
await drive('@perf/tracing', trace.getTracer('bench'), () => {
  const s = ours.exportStats();
  return `dropped ${s.dropped.toLocaleString('en')}, failed ${s.failed.toLocaleString('en')}, pending ${s.pending}`;
});
await ours.shutdown();

const raw = new NodeTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({ url, timeoutMillis: 5_000 }), {
      maxQueueSize: 2048,
      scheduledDelayMillis: 1_000,
    }),
  ],
});
await drive('raw SDK', raw.getTracer('bench'), () => 'dropped: not exposed (only a diag log line)');
await raw.shutdown().catch(() => {});
