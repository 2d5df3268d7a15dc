import diagnosticsChannel from 'node:diagnostics_channel';
import { type Context, context, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { isPerfConfigError, ManualClock, type PerfConfigError } from '@perf/core';
import { describe, expect, it } from 'vitest';
import {
  Decision,
  defaultSampler,
  parentBasedSampler,
  rateLimitingSampler,
  ruleBasedSampler,
  SAMPLING_CHANNEL,
  type Sampler,
  type SamplingDecisionEvent,
  setupTracing,
  traceIdRatioSampler,
} from '../src/index.js';

/** mulberry32: a fixed seed gives the same trace ids on every run. */
function seededTraceIds(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0).toString(16).padStart(8, '0');
  };
  return () => next() + next() + next() + next();
}

const ask = (s: Sampler, traceId: string, name = 'op', attrs = {}, ctx: Context = ROOT_CONTEXT) =>
  s.shouldSample(ctx, traceId, name, SpanKind.SERVER, attrs, []).decision;

function parentCtx(sampled: boolean): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

describe('trace-id ratio and parent-based (default)', () => {
  it('samples the configured fraction, deterministically per trace id', () => {
    const ids = Array.from({ length: 20_000 }, seededTraceIds(42));
    for (const ratio of [0, 0.01, 0.25, 0.5, 1]) {
      const s = traceIdRatioSampler(ratio);
      const kept = ids.filter((id) => ask(s, id) === Decision.sample).length;
      expect(Math.abs(kept / ids.length - ratio)).toBeLessThan(0.01);
      expect(ids.filter((id) => ask(s, id) === Decision.sample).length).toBe(kept); // same ids, same decisions
    }
  });

  it('agrees with the SDK TraceIdRatioBasedSampler on every id (one decision across services)', async () => {
    const { TraceIdRatioBasedSampler } = await import('@opentelemetry/sdk-trace-base');
    const ids = Array.from({ length: 5_000 }, seededTraceIds(7));
    const ours = traceIdRatioSampler(0.3);
    const theirs = new TraceIdRatioBasedSampler(0.3);
    for (const id of ids) {
      expect(ask(ours, id)).toBe(theirs.shouldSample(ROOT_CONTEXT, id).decision);
    }
  });

  it('children follow the parent flag, roots ask the ratio', () => {
    const s = defaultSampler(0);
    const id = seededTraceIds(1)();
    expect(ask(s, id)).toBe(Decision.drop);
    expect(ask(s, id, 'op', {}, parentCtx(true))).toBe(Decision.sample);
    expect(ask(s, id, 'op', {}, parentCtx(false))).toBe(Decision.drop);
    expect(defaultSampler(1).decide(parentCtx(true), id, 'x', SpanKind.INTERNAL, {}, []).rule).toBe('parent');
  });

  it('validates', () => {
    expect(() => traceIdRatioSampler(2)).toThrow(/ratio must be a number between 0 and 1/);
    expect(() => parentBasedSampler({ root: {} as Sampler })).toThrow(/root must be a Sampler/);
  });
});

describe('rate-limiting sampler (token bucket per root span name)', () => {
  it('allows N traces a second per name, refilling with the clock', () => {
    const clock = new ManualClock();
    const s = rateLimitingSampler({ tracesPerSecond: 2, clock });
    const id = seededTraceIds(3);
    const burst = (name: string, n: number) =>
      Array.from({ length: n }, () => ask(s, id(), name)).filter((d) => d === Decision.sample).length;
    expect(burst('GET /health', 10)).toBe(2);
    expect(burst('POST /messages', 10)).toBe(2); // its own bucket: health checks did not use it up
    clock.advance(500);
    expect(burst('GET /health', 10)).toBe(1);
    clock.advance(10_000);
    expect(burst('GET /health', 10)).toBe(2); // refills to burst, not beyond
    // Over a simulated minute at 100 attempts/s: ~2/s kept.
    let kept = 0;
    for (let t = 0; t < 6000; t++) {
      clock.advance(10);
      if (ask(s, id(), 'GET /feed') === Decision.sample) kept++;
    }
    expect(kept).toBeGreaterThanOrEqual(119);
    expect(kept).toBeLessThanOrEqual(122);
  });

  it('fractional rates, a burst option, one shared bucket, bounded names, children follow parent', () => {
    const clock = new ManualClock();
    const slow = rateLimitingSampler({ tracesPerSecond: 0.1, clock });
    const id = seededTraceIds(4);
    expect(ask(slow, id())).toBe(Decision.sample);
    expect(ask(slow, id())).toBe(Decision.drop);
    clock.advance(10_000);
    expect(ask(slow, id())).toBe(Decision.sample);

    const shared = rateLimitingSampler({ tracesPerSecond: 1, burst: 3, perSpanName: false, clock });
    expect([
      ask(shared, id(), 'a'),
      ask(shared, id(), 'b'),
      ask(shared, id(), 'c'),
      ask(shared, id(), 'd'),
    ]).toEqual([2, 2, 2, 0]);

    const few = rateLimitingSampler({ tracesPerSecond: 1, maxNames: 2, clock });
    for (const n of ['a', 'b', 'c']) ask(few, id(), n);
    expect(ask(few, id(), 'a')).toBe(Decision.sample); // 'a' was forgotten (LRU), so it starts full again
    expect(ask(few, id(), 'x', {}, parentCtx(true))).toBe(Decision.sample);
  });

  it('validates every option', () => {
    const fields: [unknown, string][] = [
      [{ tracesPerSecond: 0 }, 'tracesPerSecond'],
      [{ tracesPerSecond: 1, burst: -1 }, 'burst'],
      [{ tracesPerSecond: 1, maxNames: 1.5 }, 'maxNames'],
      [{ tracesPerSecond: 1, clock: {} }, 'clock'],
      [{ tracesPerSecond: 1, perSpanName: 'yes' }, 'perSpanName'],
    ];
    for (const [opts, field] of fields) {
      let error: unknown;
      try {
        rateLimitingSampler(opts as never);
      } catch (e) {
        error = e;
      }
      expect(isPerfConfigError(error)).toBe(true);
      expect((error as PerfConfigError).field).toBe(field);
    }
  });
});

describe('rule-based sampler', () => {
  const rules = () =>
    ruleBasedSampler({
      rules: [
        { name: 'health', route: /^\/health/, sample: 0.01 },
        {
          name: 'chat-writes',
          spanName: /^POST /,
          attributes: { 'http.route': '/rooms/:id/messages' },
          sample: 1,
        },
        { name: 'errors', attributes: { error: true }, sample: 1 },
        { name: 'tenant-b', attributes: { 'tenant.tier': 2 }, sample: 0 },
      ],
      fallback: traceIdRatioSampler(0.5),
    });

  it('the first matching rule decides; unmatched roots use the fallback; each counted by name', async () => {
    const handle = setupTracing({ serviceName: 'rules', exporter: 'none', sampler: rules() });
    try {
      const tracer = trace.getTracer('t');
      const start = (name: string, attributes: Record<string, string | number | boolean>) =>
        tracer.startSpan(name, { attributes }).isRecording();
      let health = 0;
      for (let i = 0; i < 2000; i++) if (start('GET', { 'http.route': '/health/live' })) health++;
      for (let i = 0; i < 100; i++)
        expect(start('POST /rooms/:id/messages', { 'http.route': '/rooms/:id/messages' })).toBe(true);
      for (let i = 0; i < 10; i++) expect(start('job', { error: true })).toBe(true);
      for (let i = 0; i < 10; i++) expect(start('GET /x', { 'tenant.tier': 2 })).toBe(false);
      for (let i = 0; i < 1000; i++) start('GET /other', {});
      // A child of a sampled root follows it, whatever the rules say.
      tracer.startActiveSpan(
        'POST /rooms/:id/messages',
        { attributes: { 'http.route': '/rooms/:id/messages' } },
        (root) => {
          expect(tracer.startSpan('GET', { attributes: { 'http.route': '/health' } }).isRecording()).toBe(
            true,
          );
          root.end();
        },
      );
      const stats = handle.samplingStats();
      expect(stats.rules.health!.sampled + stats.rules.health!.dropped).toBe(2000);
      expect(health).toBeLessThan(60); // 1% of 2000 = 20, random ids
      expect(stats.rules['chat-writes']).toEqual({ sampled: 101, dropped: 0 });
      expect(stats.rules.errors).toEqual({ sampled: 10, dropped: 0 });
      expect(stats.rules['tenant-b']).toEqual({ sampled: 0, dropped: 10 });
      expect(stats.rules.default!.sampled + stats.rules.default!.dropped).toBe(1000);
      expect(stats.rules.default!.sampled).toBeGreaterThan(400);
      expect(stats.rules.default!.sampled).toBeLessThan(600);
      expect(stats.rules.parent).toEqual({ sampled: 1, dropped: 0 });
      expect(stats.total.sampled + stats.total.dropped).toBe(2000 + 100 + 10 + 10 + 1000 + 2);
    } finally {
      await handle.shutdown();
    }
  });

  it('decisions are published on the diagnostics channel while someone listens', async () => {
    const events: SamplingDecisionEvent[] = [];
    const listener = (m: unknown) => void events.push(m as SamplingDecisionEvent);
    diagnosticsChannel.subscribe(SAMPLING_CHANNEL, listener);
    const handle = setupTracing({ serviceName: 'rules', exporter: 'none', sampler: rules() });
    try {
      trace
        .getTracer('t')
        .startSpan('job', { attributes: { error: true } })
        .end();
      trace
        .getTracer('t')
        .startSpan('GET', { attributes: { 'tenant.tier': 2 } })
        .end();
      expect(events).toEqual([
        { rule: 'errors', sampled: true, spanName: 'job' },
        { rule: 'tenant-b', sampled: false, spanName: 'GET' },
      ]);
    } finally {
      diagnosticsChannel.unsubscribe(SAMPLING_CHANNEL, listener);
      await handle.shutdown();
    }
  });

  it('validates rules, naming the field', () => {
    const cases: [unknown, string][] = [
      [{ rules: 'x' }, 'rules'],
      [{ rules: [null] }, 'rules[0]'],
      [{ rules: [{ sample: 2 }] }, 'rules[0].sample'],
      [{ rules: [{ sample: 1, spanName: 5 }] }, 'rules[0].spanName'],
      [{ rules: [{ sample: 1, attributes: { a: {} } }] }, 'rules[0].attributes.a'],
      [{ rules: [{ sample: 1, nam: 'x' }] }, 'rules[0].nam'],
      [
        {
          rules: [
            { name: 'a', sample: 1 },
            { name: 'a', sample: 0 },
          ],
        },
        'rules[1].name',
      ],
      [{ rules: [], fallback: {} }, 'fallback'],
    ];
    for (const [opts, field] of cases) {
      let error: unknown;
      try {
        ruleBasedSampler(opts as never);
      } catch (e) {
        error = e;
      }
      expect(isPerfConfigError(error), field).toBe(true);
      expect((error as PerfConfigError).field).toBe(field);
    }
  });

  it('works with the raw SDK too (a plain OpenTelemetry Sampler)', async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(
      '@opentelemetry/sdk-trace-base'
    );
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      sampler: rules(),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const t = provider.getTracer('raw');
    t.startSpan('job', { attributes: { error: true } }, context.active()).end();
    t.startSpan('GET', { attributes: { 'tenant.tier': 2 } }).end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['job']);
    await provider.shutdown();
  });
});
