import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import { setupTracing } from '../src/index.js';

// A real auto-instrumentation (undici/fetch, which hooks diagnostics channels, so it needs no
// require-time patching) enabled through the `instrumentations` option.
let receiver: OtlpReceiver;
let server: http.Server;
let base: string;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  server = http.createServer((req, res) => res.end(String(req.headers.traceparent)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await receiver.close();
});

describe('instrumentations option', () => {
  it('enables @opentelemetry/instrumentation-undici with our provider; shutdown disables it', async () => {
    const handle = setupTracing({
      serviceName: 'inst',
      endpoint: receiver.url,
      batch: { scheduledDelayMs: 20 },
      instrumentations: [new UndiciInstrumentation()],
    });
    const traceparent = await trace.getTracer('t').startActiveSpan('parent', async (span) => {
      const r = await fetch(`${base}/x`);
      span.end();
      return r.text();
    });
    await handle.shutdown();
    const parent = receiver.spans.find((s) => s.name === 'parent')!;
    const client = receiver.spans.find(
      (s) => s.kind === 3 && s.scope === '@opentelemetry/instrumentation-undici',
    );
    expect(client).toBeDefined();
    expect(client!.parentSpanId).toBe(parent.spanId);
    expect(traceparent).toBe(`00-${parent.traceId}-${client!.spanId}-01`);

    // Disabled with the provider: a later setup without it records no undici spans.
    const again = setupTracing({
      serviceName: 'inst2',
      endpoint: receiver.url,
      batch: { scheduledDelayMs: 20 },
    });
    await trace.getTracer('t').startActiveSpan('parent2', async (span) => {
      await (await fetch(`${base}/y`)).text();
      span.end();
    });
    await again.shutdown();
    expect(receiver.spans.filter((s) => s.resource['service.name'] === 'inst2').map((s) => s.name)).toEqual([
      'parent2',
    ]);
  });
});
