/**
 * "One request, one trace" with a real SDK: under a sampled parent every breaker call (successes
 * too) gets a `breaker call` span in the parent's trace; under an unsampled or absent parent a
 * successful call creates no span object at all.
 */

import {
  context,
  type Span,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ManualClock } from '@perf/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../src/index.js';
import { boom, ok, settle } from './support/helpers.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
/** Every `startSpan` the breaker (or anyone) makes through the global API, sampled or not. */
let started = 0;
const counting: TracerProvider = {
  getTracer(name, version, options) {
    const inner = provider.getTracer(name, version, options);
    return {
      startSpan(...args: Parameters<Tracer['startSpan']>) {
        started++;
        return inner.startSpan(...args);
      },
      startActiveSpan: inner.startActiveSpan.bind(inner),
    } as Tracer;
  },
};
const app = provider.getTracer('test');

/** Runs `body` inside a sampled `request` span, as a traced server handler would. */
async function inRequest<T>(body: () => Promise<T>): Promise<T> {
  return app.startActiveSpan('request', async (span: Span) => {
    try {
      return await body();
    } finally {
      span.end();
    }
  });
}

/** Runs `body` under a valid parent whose trace flags say "not sampled". */
function inUnsampledRequest<T>(body: () => Promise<T>): Promise<T> {
  const parent = trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.NONE,
  });
  return context.with(trace.setSpan(context.active(), parent), body);
}

const byName = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const only = (name: string): ReadableSpan => {
  const spans = byName(name);
  expect(spans).toHaveLength(1);
  return spans[0]!;
};
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('breaker call spans with an OpenTelemetry SDK', () => {
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(counting);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });
  beforeEach(() => {
    exporter.reset();
    started = 0;
  });

  it('a sampled parent gets a span for a successful call, parent of the spans fn makes', async () => {
    const breaker = createCircuitBreaker({ name: 'users', clock: new ManualClock() });
    const value = await inRequest(() =>
      breaker.execute(async () => {
        app.startSpan('upstream GET').end();
        return 7;
      }),
    );
    expect(value).toBe(7);
    const request = only('request');
    const call = only('breaker call');
    expect(call.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(parentId(call)).toBe(request.spanContext().spanId);
    expect(parentId(only('upstream GET'))).toBe(call.spanContext().spanId);
    expect(call.attributes).toEqual({
      'perf.breaker.name': 'users',
      'perf.breaker.outcome': 'success',
      'perf.breaker.state': 'closed',
      'perf.breaker.attempts': 1,
      'perf.breaker.retries': 0,
      'perf.breaker.fallback': false,
    });
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(call.ended).toBe(true);
  });

  it('a sampled parent gets a span for a failed call, with the attempt span under it', async () => {
    const breaker = createCircuitBreaker({ name: 'users', clock: new ManualClock() });
    const { error } = await inRequest(() => settle(breaker.execute(boom('upstream 500'))));
    expect(error).toEqual(new Error('upstream 500'));
    const call = only('breaker call');
    expect(call.attributes).toMatchObject({
      'perf.breaker.outcome': 'failure',
      'perf.breaker.attempts': 1,
      'perf.breaker.fallback': false,
    });
    expect(call.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream 500' });
    const attempt = only('breaker failure');
    expect(parentId(attempt)).toBe(call.spanContext().spanId);
    expect(attempt.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('counts attempts and retries of a call that succeeded on its retry', async () => {
    const breaker = createCircuitBreaker({
      name: 'flaky',
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
    });
    let n = 0;
    const value = await inRequest(() =>
      breaker.execute(async () => {
        if (n++ < 2) throw new Error('transient');
        return 'ok';
      }),
    );
    expect(value).toBe('ok');
    const call = only('breaker call');
    expect(call.attributes).toMatchObject({
      'perf.breaker.outcome': 'success',
      'perf.breaker.attempts': 3,
      'perf.breaker.retries': 2,
    });
    const failures = byName('breaker failure');
    expect(failures).toHaveLength(2);
    for (const f of failures) expect(parentId(f)).toBe(call.spanContext().spanId);
  });

  it('a sampled parent gets a span for a call a fallback answered', async () => {
    const breaker = createCircuitBreaker({
      name: 'users',
      clock: new ManualClock(),
      fallback: { value: 'cached' },
    });
    expect(await inRequest(() => breaker.execute(boom('down')))).toBe('cached');
    const call = only('breaker call');
    expect(call.attributes).toMatchObject({
      'perf.breaker.outcome': 'failure',
      'perf.breaker.fallback': true,
      'perf.breaker.attempts': 1,
    });
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a sampled parent gets a span for a call rejected while open', async () => {
    const breaker = createCircuitBreaker({ name: 'users', failureThreshold: 1, clock: new ManualClock() });
    await settle(breaker.execute(boom('down')));
    exporter.reset();
    let called = false;
    const { error } = await inRequest(() =>
      settle(
        breaker.execute(async () => {
          called = true;
        }),
      ),
    );
    expect(called).toBe(false);
    expect((error as Error).name).toBe('BrokenCircuitError');
    const call = only('breaker call');
    expect(call.attributes).toMatchObject({
      'perf.breaker.outcome': 'rejected',
      'perf.breaker.state': 'open',
      'perf.breaker.attempts': 0,
      'perf.breaker.retries': 0,
      'perf.breaker.fallback': false,
    });
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(parentId(only('breaker rejected'))).toBe(call.spanContext().spanId);
  });

  it('records timeouts and bulkhead rejections as the call outcome', async () => {
    const timed = createCircuitBreaker({ name: 'slow', timeoutMs: 5 });
    await inRequest(() => settle(timed.execute(() => new Promise(() => undefined))));
    expect(only('breaker call').attributes).toMatchObject({
      'perf.breaker.outcome': 'timeout',
      'perf.breaker.attempts': 1,
    });
    expect(byName('breaker timeout')).toHaveLength(1);
    exporter.reset();
    const crowded = createCircuitBreaker({ name: 'crowded', bulkhead: { limit: 1 } });
    let release!: () => void;
    const busy = crowded.execute(() => new Promise<void>((r) => (release = r)));
    await inRequest(() => settle(crowded.execute(ok(1))));
    release();
    await busy;
    expect(only('breaker call').attributes).toMatchObject({
      'perf.breaker.outcome': 'bulkhead-rejected',
      'perf.breaker.attempts': 0,
    });
  });

  it('records a caller that gave up during the retry backoff as aborted', async () => {
    const breaker = createCircuitBreaker({
      name: 'patient',
      retry: { maxAttempts: 2, initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const ctrl = new AbortController();
    const { error } = await inRequest(() => {
      const call = settle(breaker.execute(boom('transient'), { signal: ctrl.signal }));
      setTimeout(() => ctrl.abort(), 20);
      return call;
    });
    expect((error as Error).name).toBe('PerfAbortError');
    const call = only('breaker call');
    expect(call.attributes).toMatchObject({ 'perf.breaker.outcome': 'aborted', 'perf.breaker.attempts': 1 });
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('an unsampled parent yields no span and creates none for successes', async () => {
    const breaker = createCircuitBreaker({ name: 'users', failureThreshold: 1, clock: new ManualClock() });
    expect(await inUnsampledRequest(() => breaker.execute(ok(1)))).toBe(1);
    expect(started).toBe(0);
    await inUnsampledRequest(() => settle(breaker.execute(boom('down'))));
    await inUnsampledRequest(() => settle(breaker.execute(ok(1))));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('no parent: a successful call creates no span', async () => {
    const breaker = createCircuitBreaker({ name: 'users', retry: { maxAttempts: 1, initialDelayMs: 1 } });
    expect(await breaker.execute(ok(1))).toBe(1);
    expect(started).toBe(0);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
