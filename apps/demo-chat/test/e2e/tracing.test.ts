/**
 * The demo as `pnpm demo` runs it with OTEL_EXPORTER_OTLP_ENDPOINT set, exporting to a real OTLP/HTTP
 * receiver in this test: one reply request is one trace, from the demo's SERVER span through the
 * dedup and cache spans and the CLIENT call to the assistant upstream, which continues the trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '../../../../tooling/otlp-receiver.js';
import { ownerOfConversation } from '../../src/workload-plan.js';
import { type DemoProcess, startDemoProcess } from '../helpers/demo-process.js';

const SERVER = 2;
const CLIENT = 3;

let receiver: OtlpReceiver;
let demo: DemoProcess;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The demo's own upstream (in-process, no ASSISTANT_URL), so it continues the trace too.
  demo = await startDemoProcess({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
    DEMO_REQUEST_LOGS: 'on',
    DEMO_SEED_CONVERSATIONS: '50',
    DEMO_WARM: 'off', // cold caches: the reply's ownership and history reads miss and load
  });
});
afterAll(async () => {
  if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
  await receiver?.close();
});

describe('traces over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('one reply request is one trace: server, dedup/cache, breaker (when recorded), client and upstream spans', async () => {
    const c = { id: 7 }; // seeded, not read yet
    const res = await fetch(`${demo.url}/api/conversations/${c.id}/reply`, {
      method: 'POST',
      headers: { 'x-user-id': ownerOfConversation(c.id), 'x-correlation-id': 'trace-e2e-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-correlation-id')).toBe('trace-e2e-1');
    expect(((await res.json()) as { fallback: boolean }).fallback).toBe(false);

    // SIGTERM: the graceful close ends with tracing.shutdown(), which exports every finished span.
    expect(await demo.stop()).toBe(0);

    const server = receiver.spans.find(
      (s) =>
        s.kind === SERVER &&
        s.attributes['perf.correlation_id'] === 'trace-e2e-1' &&
        s.attributes['url.path'] === `/api/conversations/${c.id}/reply`,
    );
    expect(server, receiver.spans.map((s) => s.name).join(', ')).toBeDefined();
    expect(server!.name).toBe('POST /api/conversations/:id/reply');
    expect(server!.parentSpanId).toBeUndefined();
    expect(server!.attributes['http.response.status_code']).toBe(201);
    expect(server!.resource['service.name']).toBe('demo-chat');
    expect(receiver.requests.every((r) => r.contentType?.startsWith('application/json'))).toBe(true);

    const trace = receiver.spans.filter((s) => s.traceId === server!.traceId);
    console.log(
      `one reply request, one trace of ${trace.length} spans: ${trace.map((s) => `${s.name} [${s.scope}]`).join(', ')}`,
    );
    for (const s of trace) expect(s.resource['service.name']).toBe('demo-chat');
    // Every span hangs off another span of the same trace, up to the server span.
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    for (const s of trace) {
      if (s === server) continue;
      expect(byId.has(s.parentSpanId ?? ''), `${s.name} has its parent in the trace`).toBe(true);
    }
    const under = (s: ReceivedSpan, ancestor: ReceivedSpan): boolean => {
      for (let p = byId.get(s.parentSpanId ?? ''); p; p = byId.get(p.parentSpanId ?? '')) {
        if (p === ancestor) return true;
      }
      return false;
    };

    const dedup = trace.filter((s) => s.name.startsWith('dedup.'));
    expect(dedup.length).toBeGreaterThan(0);
    // Keys on spans are hashed by default (they hold user ids).
    for (const s of dedup) {
      const key = s.attributes['perf.dedup.key'];
      if (key !== undefined) expect(String(key)).toMatch(/^sha256:/);
    }
    // The cold reads loaded through the caches' factories (conversation record, history), in the trace.
    const factories = trace.filter((s) => s.name === 'cache.factory');
    expect(factories.length).toBeGreaterThanOrEqual(2);
    for (const s of [...dedup, ...factories]) expect(under(s, server!)).toBe(true);

    const client = trace.find(
      (s) => s.kind === CLIENT && String(s.attributes['url.full']).endsWith('/v1/reply'),
    );
    expect(client).toBeDefined();
    expect(under(client!, server!)).toBe(true);
    expect(client!.attributes['http.response.status_code']).toBe(200);
    // The upstream continued the trace: its SERVER span is the client span's child.
    const upstream = trace.find((s) => s.kind === SERVER && s.parentSpanId === client!.spanId);
    expect(upstream).toBeDefined();
    expect(upstream!.attributes['url.path']).toBe('/v1/reply');
    expect(upstream!.attributes['perf.correlation_id']).toBe('trace-e2e-1');

    // A breaker span, when @perf/resilience records successful calls, sits in the same trace.
    for (const s of trace.filter((x) => x.name.startsWith('breaker'))) expect(under(s, server!)).toBe(true);

    // Log lines: the request's correlation id, trace id and span id on each.
    const lines = demo.logs
      .filter((l) => l.includes('"correlation_id":"trace-e2e-1"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'assistant replied', 'request completed']),
    );
    for (const line of lines) {
      expect(line.trace_id, String(line.msg)).toBe(server!.traceId);
      expect(byId.has(String(line.span_id)), String(line.msg)).toBe(true);
    }
  });
});
