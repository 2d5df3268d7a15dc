import { channels, ManualClock } from '@perf/core';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkSupported } from '../src/histogram-sink.js';
import { createMetrics, type Metrics } from '../src/index.js';
import { sample } from './helpers.js';

const open: Metrics[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

describe('rendering through prom-client', () => {
  it('is byte-identical to prom-client registry.metrics() for Prometheus text, large metrics included', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'chat' });
    const m = createMetrics({ registry, clock: new ManualClock(), maxLabelValues: 5000 });
    open.push(m);
    const own = new Counter({
      name: 'app_jobs_total',
      help: 'user metric\nwith "quotes"',
      registers: [registry],
    });
    own.inc(3);
    for (let i = 0; i < 400; i++) {
      channels.cache.operation.publish({
        namespace: `ns${i}`,
        operation: 'get',
        result: 'l1',
        durationMs: i / 10,
      });
      channels.cache.hit.publish({ namespace: `ns${i}`, key: 'k', tier: 'l1' });
    }
    const ours = await m.render('prometheus');
    const theirs = await registry.metrics();
    expect(ours.split('\n').length).toBeGreaterThan(400 * 20);
    expect(ours).toBe(theirs);
    expect(ours).toContain('service="chat"');
  });

  it('matches prom-client OpenMetrics output too (an OpenMetrics registry), without renaming the counters it holds', async () => {
    const { createRegistry } = await import('../src/render.js');
    const m = createMetrics({
      clock: new ManualClock(),
      registry: createRegistry(Registry.OPENMETRICS_CONTENT_TYPE),
    });
    open.push(m);
    for (let i = 0; i < 30; i++)
      channels.breaker.call.publish({ name: `b${i}`, outcome: 'success', durationMs: 1 });
    const ours = await m.render('openmetrics');
    expect(m.registry.getSingleMetric('perf_breaker_calls_total')).toBeDefined();
    const theirs = await m.registry.metrics(); // prom-client strips _total from its counters' names here
    expect(ours).toBe(theirs);
  });
});

describe('an OpenMetrics registry of yours', () => {
  it("keeps _total in Prometheus-text scrapes even when prom-client's own metrics() ran first", async () => {
    const { createRegistry } = await import('../src/render.js');
    const registry = createRegistry(Registry.OPENMETRICS_CONTENT_TYPE);
    const m = createMetrics({ clock: new ManualClock(), registry });
    open.push(m);
    channels.breaker.call.publish({ name: 'b', outcome: 'success', durationMs: 1 });
    await registry.metrics(); // renames its counters in place (drops _total)
    const text = await m.render('prometheus');
    expect(text).toContain('# TYPE perf_breaker_calls_total counter');
    expect(text).toContain('\nperf_breaker_calls_total{name="b",outcome="success"} 1');
  });
});

describe('histograms counted per bucket and handed to prom-client at collect', () => {
  it('the prom-client in use supports the bulk path', () => {
    expect(bulkSupported()).toBe(true);
  });

  it('gives the same buckets, sum and count as direct observe() calls', async () => {
    const m = createMetrics({ clock: new ManualClock(), buckets: [0.001, 0.01, 0.1, 1] });
    open.push(m);
    const reference = new Histogram({
      name: 'ref_seconds',
      help: 'ref',
      labelNames: ['namespace', 'operation', 'result'],
      buckets: [0.001, 0.01, 0.1, 1],
      registers: [],
    });
    const values = [0.0005, 0.001, 0.002, 0.05, 0.1, 0.7, 3, 12, 0];
    for (const ms of values.map((v) => v * 1000)) {
      channels.cache.operation.publish({ namespace: 'h', operation: 'get', result: 'l2', durationMs: ms });
      reference.observe({ namespace: 'h', operation: 'get', result: 'l2' }, ms / 1000);
    }
    const ours = (await m.registry.getSingleMetric('perf_cache_operation_duration_seconds')!.get()).values;
    const theirs = (await reference.get()).values;
    expect(ours.map((v) => [v.labels, v.value])).toEqual(theirs.map((v) => [v.labels, v.value]));
    // A second collect adds nothing new; a new observation lands on top.
    channels.cache.operation.publish({ namespace: 'h', operation: 'get', result: 'l2', durationMs: 1 });
    expect(
      await sample(
        m,
        'perf_cache_operation_duration_seconds',
        { namespace: 'h', operation: 'get', result: 'l2' },
        'perf_cache_operation_duration_seconds_count',
      ),
    ).toBe(values.length + 1);
  });

  it('survives prom-client reset() and remove() of the series', async () => {
    const m = createMetrics({ clock: new ManualClock() });
    open.push(m);
    const op = (ms: number) =>
      channels.cache.operation.publish({ namespace: 'r', operation: 'get', result: 'l1', durationMs: ms });
    const count = () =>
      sample(
        m,
        'perf_cache_operation_duration_seconds',
        { namespace: 'r', operation: 'get', result: 'l1' },
        'perf_cache_operation_duration_seconds_count',
      );
    op(1);
    expect(await count()).toBe(1);
    m.registry.resetMetrics();
    op(1);
    op(2);
    expect(await count()).toBe(2);
    const h = m.registry.getSingleMetric('perf_cache_operation_duration_seconds') as Histogram<string>;
    h.remove({ namespace: 'r', operation: 'get', result: 'l1' });
    expect(await count()).toBeUndefined();
    op(3);
    expect(await count()).toBe(1);
  });
});

describe('histogram fallback (one prom-client observe() per event)', () => {
  it('renders the same samples and exemplars as the bulk path', async () => {
    const { HistogramFamily } = await import('../src/series-family.js');
    const { createRegistry } = await import('../src/render.js');
    const { installContextManager, withSpan } = await import('./helpers.js');
    const restore = installContextManager();
    try {
      const outputs: string[] = [];
      for (const bulk of [true, false]) {
        const registry = createRegistry(Registry.OPENMETRICS_CONTENT_TYPE);
        const family = new HistogramFamily({
          signal: 'cache_operation_duration',
          name: 'x_seconds',
          help: 'x',
          labelNames: ['a'],
          registry,
          maxValuesPerLabel: 10,
          maxSeries: 10,
          onOverflow: () => {},
          buckets: [0.01, 0.1],
          exemplars: true,
          bulk,
        });
        for (const v of [0.005, 0.05, 0.5]) family.observe(family.s1('one'), v, 0);
        withSpan('4bf92f3577b34da6a3ce929d0e0e4736', true, () =>
          family.observe(family.s1('two'), 0.05, 0, 'abc'),
        );
        outputs.push((await registry.metrics()).replace(/ \d+\.\d+\n/g, ' <ts>\n'));
      }
      expect(outputs[0]).toContain('x_seconds_bucket{le="0.1",a="two"} 1 # {trace_id="abc"} 0.05');
      expect(outputs[0]).toBe(outputs[1]);
    } finally {
      restore();
    }
  });
});
