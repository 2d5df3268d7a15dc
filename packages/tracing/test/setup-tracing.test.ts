import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isPerfConfigError, type PerfConfigError } from '@perf/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import {
  isTracingAlreadySetUpError,
  type SpanExporter,
  setupTracing,
  type TracingHandle,
  traceIdRatioSampler,
} from '../src/index.js';
import { waitUntil } from './helpers/wait-until.js';

let receiver: OtlpReceiver;
let handle: TracingHandle | undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
  receiver.spans.length = 0;
  receiver.requests.length = 0;
  receiver.status = 200;
});

const fast = { scheduledDelayMs: 20 };

describe('setupTracing with the real OTLP/HTTP exporter', () => {
  it('is usable at once: spans reach the receiver with names, parents, links, attributes, resource', async () => {
    handle = setupTracing({
      serviceName: 'orders',
      serviceVersion: '1.2.3',
      endpoint: receiver.url,
      headers: { 'x-api-key': 'k-1' },
      batch: fast,
      resource: { 'deployment.environment.name': 'test' },
    });
    const tracer = trace.getTracer('test-scope');
    const linked = tracer.startSpan('linked-root');
    linked.end();
    tracer.startActiveSpan(
      'parent',
      { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders/:id' } },
      (parent) => {
        const child = tracer.startSpan('child', {
          links: [{ context: linked.spanContext() }],
          attributes: { n: 7, ok: true },
        });
        child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
        child.end();
        parent.end();
      },
    );
    const spans = await receiver.waitFor((s) => s.length >= 3);
    const parent = spans.find((s) => s.name === 'parent')!;
    const child = spans.find((s) => s.name === 'child')!;
    const root = spans.find((s) => s.name === 'linked-root')!;
    expect(parent.parentSpanId).toBeUndefined();
    expect(parent.kind).toBe(2); // OTLP SPAN_KIND_SERVER
    expect(parent.attributes['http.route']).toBe('/orders/:id');
    expect(child.parentSpanId).toBe(parent.spanId);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.links).toEqual([{ traceId: root.traceId, spanId: root.spanId }]);
    expect(child.attributes).toMatchObject({ n: 7, ok: true });
    expect(child.status).toMatchObject({ code: 2, message: 'boom' });
    expect(child.scope).toBe('test-scope');
    expect(parent.resource).toMatchObject({
      'service.name': 'orders',
      'service.version': '1.2.3',
      'deployment.environment.name': 'test',
      'process.pid': process.pid,
      'process.runtime.name': 'nodejs',
      'host.name': expect.any(String),
    });
    expect(parent.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(receiver.requests[0]!.contentType).toMatch(/^application\/json/);
    expect(receiver.requests[0]!.headers['x-api-key']).toBe('k-1');
    expect(handle.exportStats()).toMatchObject({ exported: 3, failed: 0, dropped: 0, pending: 0 });
  });

  it('registers AsyncLocalStorage context and W3C trace-context + baggage propagation', async () => {
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' });
    const tracer = trace.getTracer('t');
    await tracer.startActiveSpan('outer', async (span) => {
      await new Promise((r) => setTimeout(r, 5));
      expect(trace.getActiveSpan()).toBe(span); // survived a timer: ALS context manager
      const bag = propagation.createBaggage({ tenant: { value: 'acme' } });
      const carrier: Record<string, string> = {};
      propagation.inject(propagation.setBaggage(context.active(), bag), carrier);
      expect(carrier.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      expect(carrier.baggage).toBe('tenant=acme');
      span.end();
    });
  });

  it('shutdown flushes every span, unregisters, and allows a second setup', async () => {
    handle = setupTracing({
      serviceName: 'svc',
      endpoint: receiver.url,
      batch: { scheduledDelayMs: 60_000 },
    });
    const tracer = trace.getTracer('cached-at-import'); // libraries keep the tracer they got first
    for (let i = 0; i < 50; i++) tracer.startSpan(`s${i}`).end();
    expect(receiver.spans).toHaveLength(0); // the long delay kept them queued
    const first = handle.shutdown();
    expect(handle.shutdown()).toBe(first); // idempotent: one shutdown, one promise
    await first;
    expect(receiver.spans).toHaveLength(50);
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(tracer.startSpan('after').isRecording()).toBe(false); // unregistered: no-op
    const again = setupTracing({ serviceName: 'svc2', endpoint: receiver.url, batch: fast });
    handle = again;
    tracer.startSpan('second-life').end(); // the same cached tracer reaches the new provider
    await receiver.waitFor((s) =>
      s.some((x) => x.name === 'second-life' && x.resource['service.name'] === 'svc2'),
    );
  });

  it('calling it twice is a clear error and leaves the first setup working', () => {
    handle = setupTracing({ serviceName: 'first', exporter: 'none' });
    let error: unknown;
    try {
      setupTracing({ serviceName: 'second', exporter: 'none' });
    } catch (e) {
      error = e;
    }
    expect(isTracingAlreadySetUpError(error)).toBe(true);
    expect((error as Error).message).toMatch(/already set up for service "first".*shutdown\(\)/);
    expect((error as { code: string }).code).toBe('ERR_PERF_TRACING_ALREADY_SET_UP');
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(true);
  });

  it('refuses when another SDK registered a provider', async () => {
    const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
    const foreign = new NodeTracerProvider();
    foreign.register();
    try {
      expect(() => setupTracing({ serviceName: 'svc', exporter: 'none' })).toThrow(/another OpenTelemetry/);
    } finally {
      trace.disable();
      context.disable();
      propagation.disable();
      await foreign.shutdown();
    }
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' }); // nothing was left half-registered
  });

  it('accepts a custom SpanExporter and the console and none exporters', async () => {
    const got: string[] = [];
    const custom: SpanExporter = {
      export: (spans, done) => {
        for (const s of spans) got.push(s.name);
        done({ code: 0 });
      },
      shutdown: async () => {},
    };
    handle = setupTracing({ serviceName: 'svc', exporter: custom, batch: fast });
    trace.getTracer('t').startSpan('to-custom').end();
    await handle.forceFlush();
    expect(got).toEqual(['to-custom']);
    await handle.shutdown();

    const lines: string[] = [];
    const original = console.dir;
    console.dir = (v: unknown) => void lines.push(JSON.stringify(v));
    try {
      handle = setupTracing({ serviceName: 'svc', exporter: 'console', batch: fast });
      trace.getTracer('t').startSpan('to-console').end();
      await handle.shutdown();
    } finally {
      console.dir = original;
    }
    expect(lines.join('\n')).toContain('to-console');
  });

  it('otlp-proto sends protobuf to the same endpoint', async () => {
    handle = setupTracing({
      serviceName: 'svc',
      exporter: 'otlp-proto',
      endpoint: receiver.url,
      batch: fast,
    });
    trace.getTracer('t').startSpan('proto').end();
    await handle.forceFlush();
    await waitUntil(() => receiver.requests.length > 0);
    expect(receiver.requests[0]!.contentType).toBe('application/x-protobuf');
    expect(receiver.requests[0]!.bytes).toBeGreaterThan(20);
    expect(handle.exportStats().exported).toBe(1);
  });

  it('the sampler option: a ratio or any sampler; decisions are counted', async () => {
    handle = setupTracing({ serviceName: 'svc', exporter: 'none', sampler: 0 });
    expect(trace.getTracer('t').startSpan('dropped').isRecording()).toBe(false);
    expect(handle.samplingStats().rules.ratio).toEqual({ sampled: 0, dropped: 1 });
    await handle.shutdown();
    handle = setupTracing({ serviceName: 'svc', exporter: 'none', sampler: traceIdRatioSampler(1) });
    expect(trace.getTracer('t').startSpan('kept').isRecording()).toBe(true);
    expect(handle.samplingStats().total).toEqual({ sampled: 1, dropped: 0 });
  });

  it('counts spans dropped when the queue is full and the endpoint is down; shutdown still resolves', async () => {
    const down = await startOtlpReceiver();
    await down.close(); // nothing listens there any more: connection refused
    handle = setupTracing({
      serviceName: 'svc',
      endpoint: down.url,
      batch: { maxQueueSize: 10, maxExportBatchSize: 5, scheduledDelayMs: 60_000, exportTimeoutMs: 2_000 },
    });
    for (let i = 0; i < 25; i++) trace.getTracer('t').startSpan(`s${i}`).end();
    const early = handle.exportStats();
    // At most 10 spans are held, queued or in an export under way; the rest are refused and counted.
    expect(early.dropped).toBe(15);
    expect(early.pending).toBe(10);
    await handle.forceFlush(); // export failures are counted, not thrown
    await waitUntil(() => handle!.exportStats().pending === 0, 15_000, 'exports settled');
    const stats = handle.exportStats();
    expect(stats.exported).toBe(0);
    expect(stats).toMatchObject({ failed: 10, dropped: 15 });
    await handle.shutdown();
  });

  it('redacts secret headers and configured keys, and hashes cache keys by default', async () => {
    handle = setupTracing({
      serviceName: 'svc',
      endpoint: receiver.url,
      batch: fast,
      redact: { attributes: ['user.email'] },
    });
    const span = trace.getTracer('t').startSpan('secret', {
      attributes: {
        'http.request.header.authorization': ['Bearer tok-s3cret'],
        'http.request.header.cookie': ['sid=1'],
        'http.response.header.set-cookie': ['sid=2'],
        'user.email': 'a@b.c',
        'cache.key': 'session:42',
        'perf.dedup.key': 'user:42',
        'http.route': '/keep',
      },
    });
    span.end();
    const got = (await receiver.waitFor((s) => s.some((x) => x.name === 'secret'))).find(
      (x) => x.name === 'secret',
    );
    expect(got!.attributes).toMatchObject({
      'http.request.header.authorization': '[REDACTED]',
      'http.request.header.cookie': '[REDACTED]',
      'http.response.header.set-cookie': '[REDACTED]',
      'user.email': '[REDACTED]',
      'http.route': '/keep',
    });
    expect(got!.attributes['cache.key']).toMatch(/^sha256:[A-Za-z0-9_-]{16}$/);
    expect(got!.attributes['perf.dedup.key']).toMatch(/^sha256:/);
    // Secrets chosen so no random hex id can contain them ('abc' could: ids are hex).
    expect(JSON.stringify(got)).not.toMatch(/tok-s3cret|sid=|a@b\.c|session:42|user:42/);
    await handle.shutdown();
    handle = setupTracing({
      serviceName: 'svc',
      endpoint: receiver.url,
      batch: fast,
      redact: { cacheKeys: 'show' },
    });
    trace
      .getTracer('t')
      .startSpan('shown', { attributes: { 'cache.key': 'session:42' } })
      .end();
    const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'shown'));
    expect(spans.find((x) => x.name === 'shown')!.attributes['cache.key']).toBe('session:42');
  });

  it('enables and disables instrumentations with its provider', async () => {
    const calls: string[] = [];
    const inst = {
      setTracerProvider: (p: unknown) =>
        void calls.push(`provider:${typeof (p as { getTracer?: unknown }).getTracer}`),
      enable: () => void calls.push('enable'),
      disable: () => void calls.push('disable'),
    };
    handle = setupTracing({ serviceName: 'svc', exporter: 'none', instrumentations: [inst] });
    expect(calls).toEqual(['provider:function', 'enable']);
    await handle.shutdown();
    expect(calls).toEqual(['provider:function', 'enable', 'disable']);

    // One that throws while enabling: the ones before it are disabled again, nothing stays registered.
    calls.length = 0;
    const broken = {
      ...inst,
      enable: () => {
        throw new Error('cannot patch');
      },
    };
    expect(() =>
      setupTracing({ serviceName: 'svc', exporter: 'none', instrumentations: [inst, broken] }),
    ).toThrow('cannot patch');
    expect(calls).toEqual(['provider:function', 'enable', 'provider:function', 'disable']);
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' });
  });
});

describe('setupTracing options are validated, naming the field', () => {
  const cases: [string, unknown, string][] = [
    ['no service name', {}, 'serviceName'],
    ['empty service name', { serviceName: '' }, 'serviceName'],
    ['unknown exporter', { serviceName: 's', exporter: 'jaeger' }, 'exporter'],
    ['endpoint not a URL', { serviceName: 's', endpoint: 'localhost:4318' }, 'endpoint'],
    ['ftp endpoint', { serviceName: 's', endpoint: 'ftp://x/v1/traces' }, 'endpoint'],
    ['sampler ratio > 1', { serviceName: 's', sampler: 1.5 }, 'sampler'],
    ['sampler not a sampler', { serviceName: 's', sampler: {} }, 'sampler'],
    ['header not a string', { serviceName: 's', headers: { a: 1 } }, 'headers.a'],
    ['bad resource value', { serviceName: 's', resource: { a: {} } }, 'resource.a'],
    ['batch size', { serviceName: 's', batch: { maxQueueSize: 0 } }, 'batch.maxQueueSize'],
    [
      'batch over queue',
      { serviceName: 's', batch: { maxQueueSize: 10, maxExportBatchSize: 11 } },
      'batch.maxExportBatchSize',
    ],
    ['redact keys mode', { serviceName: 's', redact: { cacheKeys: 'maybe' } }, 'redact.cacheKeys'],
    ['redact attribute', { serviceName: 's', redact: { attributes: [''] } }, 'redact.attributes[0]'],
    ['instrumentation', { serviceName: 's', instrumentations: [{}] }, 'instrumentations[0]'],
    ['typo', { serviceName: 's', exportr: 'none' }, 'exportr'],
    ['not an object', 'svc', 'options'],
  ];
  it.each(cases)('%s', (_label, input, field) => {
    let error: unknown;
    try {
      setupTracing(input as never);
    } catch (e) {
      error = e;
    }
    expect(isPerfConfigError(error)).toBe(true);
    expect((error as PerfConfigError).field).toBe(field);
    expect((error as Error).message).toContain('setupTracing');
  });
});
