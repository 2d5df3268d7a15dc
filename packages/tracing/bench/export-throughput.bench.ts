/**
 * Export throughput: spans/s from `span.end()` to a real OTLP/HTTP JSON receiver on 127.0.0.1
 * (in this process), through the batch processor and the real `exporter-trace-otlp-http`:
 * @perf/tracing (setupTracing) vs the raw SDK with the same batch settings, alternating rounds.
 * Each round ends N spans as fast as it can, then flushes, and is timed until the receiver holds
 * all of them. The queue is large enough that nothing is dropped (checked).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { median } from '../../../tooling/bench.js';
import { setupTracing } from '../src/index.js';

const SPANS = 20_000;
const ROUNDS = 5;
const batch = { maxQueueSize: SPANS, maxExportBatchSize: 512, scheduledDelayMs: 50 };

let received = 0;
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const rs of doc.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) received += ss.spans?.length ?? 0;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;

const ours = setupTracing({ serviceName: 'bench', endpoint: url, batch });
const oursTracer = trace.getTracer('bench');
const raw = new NodeTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({ url }), {
      maxQueueSize: batch.maxQueueSize,
      maxExportBatchSize: batch.maxExportBatchSize,
      scheduledDelayMillis: batch.scheduledDelayMs,
    }),
  ],
});
const rawTracer = raw.getTracer('bench');

async function round(tracer: typeof rawTracer, flush: () => Promise<void>): Promise<number> {
  received = 0;
  const start = performance.now();
  for (let i = 0; i < SPANS; i++) {
    const span = tracer.startSpan('cache.get', {
      attributes: { 'cache.namespace': 'bench', 'cache.tier': 'l1' },
    });
    span.end();
    // Yield now and then, as a server would between requests, so exports can go out meanwhile.
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await flush();
  while (received < SPANS) await new Promise((r) => setTimeout(r, 1));
  return SPANS / ((performance.now() - start) / 1000);
}

const samples = { raw: [] as number[], ours: [] as number[] };
for (let r = -1; r < ROUNDS; r++) {
  const a = await round(rawTracer, () => raw.forceFlush());
  const b = await round(oursTracer, () => ours.forceFlush());
  if (r >= 0) {
    samples.raw.push(a);
    samples.ours.push(b);
  }
}
const rawRate = median(samples.raw);
const oursRate = median(samples.ours);
console.log(
  `\nexport throughput to a local OTLP/HTTP JSON receiver (median of ${ROUNDS} alternating rounds x ${SPANS} spans)`,
);
console.log(
  `  raw SDK (BatchSpanProcessor + OTLPTraceExporter)   ${Math.round(rawRate).toLocaleString('en')} spans/s`,
);
console.log(
  `  @perf/tracing (setupTracing, exporter 'otlp')      ${Math.round(oursRate).toLocaleString('en')} spans/s  (${(oursRate / rawRate).toFixed(2)}x raw)`,
);
const stats = ours.exportStats();
console.log(
  `  @perf/tracing exportStats: exported ${stats.exported}, failed ${stats.failed}, dropped ${stats.dropped}`,
);
await ours.shutdown();
await raw.shutdown();
server.close();
