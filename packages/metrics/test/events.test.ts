import { execFileSync } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { CHANNEL_NAMES, channels, ManualClock } from '@perf/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics, OTHER_LABEL_VALUE } from '../src/index.js';
import { sample } from './helpers.js';

const open: Metrics[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});
function make(options: Parameters<typeof createMetrics>[0] = {}) {
  const m = createMetrics({ clock: new ManualClock(), ...options });
  open.push(m);
  return m;
}

/** Publishes one realistic payload on every @perf channel. */
function publishEverything() {
  channels.dedup.lead.publish({ name: 'users', key: 'k', correlationId: 'a' });
  channels.dedup.join.publish({ name: 'users', key: 'k', correlationId: 'b', leaderCorrelationId: 'a' });
  channels.dedup.join.publish({ name: 'users', key: 'k', correlationId: 'c', leaderCorrelationId: 'a' });
  channels.dedup.bypass.publish({ name: 'users', key: 'k', reason: 'max-in-flight' });
  channels.dedup.timeout.publish({
    name: 'users',
    key: 'k',
    correlationId: 'c',
    role: 'follower',
    timeoutMs: 5,
  });
  channels.dedup.settle.publish({
    name: 'users',
    key: 'k',
    correlationId: 'a',
    role: 'leader',
    leaderCorrelationId: 'a',
    outcome: 'success',
    durationMs: 12,
  });
  channels.tracing.sampling.publish({ rule: 'rule:writes', sampled: true, spanName: 'POST /messages' });
  channels.tracing.sampling.publish({ rule: 'rule:health', sampled: false, spanName: 'GET /healthz' });
  channels.tracing.sampling.publish({ rule: 'rule:health', sampled: false, spanName: 'GET /healthz' });
  channels.cache.hit.publish({ namespace: 'chat', key: 'k', tier: 'l1' });
  channels.cache.hit.publish({ namespace: 'chat', key: 'k', tier: 'l1' });
  channels.cache.miss.publish({ namespace: 'chat', key: 'k', tier: 'l1' });
  channels.cache.miss.publish({ namespace: 'chat', key: 'k', tier: 'l3' });
  channels.cache.set.publish({
    namespace: 'chat',
    key: 'k',
    tiers: ['l1', 'l3'],
    ttlMs: 1000,
    reason: 'factory',
  });
  channels.cache.delete.publish({ namespace: 'chat', kind: 'prefix', target: 'user:' });
  channels.cache.invalidate.publish({ namespace: 'chat', tags: ['a', 'b', 'c'] });
  channels.cache.factory.publish({ namespace: 'chat', key: 'k', durationMs: 50, outcome: 'success' });
  channels.cache.stale.publish({ namespace: 'chat', key: 'k', reason: 'factory-error' });
  channels.cache.bus.publish({ namespace: 'chat', direction: 'sent', kind: 'delete' });
  channels.cache.error.publish({
    namespace: 'chat',
    source: 'l3',
    operation: 'get',
    kind: 'timeout',
    error: new Error('x'),
  });
  channels.cache.operation.publish({ namespace: 'chat', operation: 'get', result: 'l1', durationMs: 0.2 });
  channels.cache.operation.publish({ namespace: 'chat', operation: 'set', durationMs: 1.5 });
  channels.breaker.state.publish({ name: 'db', from: 'closed', to: 'open', reason: 'failures' });
  channels.breaker.call.publish({ name: 'db', outcome: 'failure', durationMs: 30, slow: true });
  channels.breaker.call.publish({ name: 'db', outcome: 'rejected', durationMs: 0 });
}

describe('events → standard metrics', () => {
  it('records every channel into the right metric and labels', async () => {
    const m = make();
    publishEverything();
    expect(await sample(m, 'perf_dedup_requests_total', { name: 'users', role: 'leader' })).toBe(1);
    expect(await sample(m, 'perf_dedup_requests_total', { name: 'users', role: 'follower' })).toBe(2);
    expect(await sample(m, 'perf_dedup_requests_total', { name: 'users', role: 'bypass' })).toBe(1);
    expect(await sample(m, 'perf_dedup_timeouts_total', { name: 'users', role: 'follower' })).toBe(1);
    expect(
      await sample(
        m,
        'perf_dedup_wait_duration_seconds',
        { name: 'users', role: 'leader', outcome: 'success' },
        'perf_dedup_wait_duration_seconds_sum',
      ),
    ).toBeCloseTo(0.012);
    expect(
      await sample(m, 'perf_cache_lookups_total', { namespace: 'chat', tier: 'l1', result: 'hit' }),
    ).toBe(2);
    expect(
      await sample(m, 'perf_cache_lookups_total', { namespace: 'chat', tier: 'l1', result: 'miss' }),
    ).toBe(1);
    expect(
      await sample(m, 'perf_cache_lookups_total', { namespace: 'chat', tier: 'l3', result: 'miss' }),
    ).toBe(1);
    expect(await sample(m, 'perf_cache_hit_ratio', { namespace: 'chat', tier: 'l1' })).toBeCloseTo(2 / 3);
    expect(await sample(m, 'perf_cache_sets_total', { namespace: 'chat', reason: 'factory' })).toBe(1);
    expect(await sample(m, 'perf_cache_deletes_total', { namespace: 'chat', kind: 'prefix' })).toBe(1);
    expect(await sample(m, 'perf_cache_tag_invalidations_total', { namespace: 'chat' })).toBe(3);
    expect(await sample(m, 'perf_cache_factory_runs_total', { namespace: 'chat', outcome: 'success' })).toBe(
      1,
    );
    expect(
      await sample(m, 'perf_cache_stale_served_total', { namespace: 'chat', reason: 'factory-error' }),
    ).toBe(1);
    expect(
      await sample(m, 'perf_cache_bus_messages_total', {
        namespace: 'chat',
        direction: 'sent',
        kind: 'delete',
      }),
    ).toBe(1);
    expect(
      await sample(m, 'perf_cache_errors_total', { namespace: 'chat', source: 'l3', kind: 'timeout' }),
    ).toBe(1);
    expect(
      await sample(
        m,
        'perf_cache_operation_duration_seconds',
        { namespace: 'chat', operation: 'set', result: 'none' },
        'perf_cache_operation_duration_seconds_count',
      ),
    ).toBe(1);
    expect(await sample(m, 'perf_breaker_state', { name: 'db', state: 'open' })).toBe(1);
    expect(await sample(m, 'perf_breaker_state', { name: 'db', state: 'closed' })).toBe(0);
    expect(
      await sample(m, 'perf_breaker_transitions_total', { name: 'db', from: 'closed', to: 'open' }),
    ).toBe(1);
    expect(await sample(m, 'perf_breaker_calls_total', { name: 'db', outcome: 'rejected' })).toBe(1);
    expect(await sample(m, 'perf_breaker_slow_calls_total', { name: 'db' })).toBe(1);
    expect(
      await sample(m, 'perf_tracing_sampling_decisions_total', { rule: 'rule:writes', decision: 'sampled' }),
    ).toBe(1);
    expect(
      await sample(m, 'perf_tracing_sampling_decisions_total', { rule: 'rule:health', decision: 'dropped' }),
    ).toBe(2);
  });

  it('feeds the sliding-window aggregates (rates, ratios, quantiles, gauge values)', () => {
    const clock = new ManualClock();
    const m = make({ clock });
    for (let i = 0; i < 30; i++) {
      channels.cache.hit.publish({ namespace: 'a', key: 'k', tier: 'l1' });
      channels.cache.miss.publish({ namespace: i % 3 === 0 ? 'a' : 'b', key: 'k', tier: 'l1' });
      channels.cache.operation.publish({ namespace: 'a', operation: 'get', result: 'l1', durationMs: i + 1 });
      clock.advance(1000);
    }
    const a = m.aggregates;
    expect(a.rate({ signal: 'cache_lookups' }, 60_000)[0]!.value).toBeCloseTo(1);
    const byNs = a.ratio(
      { signal: 'cache_lookups', match: { result: 'hit' } },
      { signal: 'cache_lookups' },
      60_000,
      ['namespace'],
    );
    expect(byNs.find((g) => g.labels.namespace === 'a')!.value).toBeCloseTo(30 / 40);
    expect(byNs.find((g) => g.labels.namespace === 'b')!.value).toBe(0);
    expect(a.rate({ signal: 'cache_lookups' }, 10_000)[0]!.value).toBeCloseTo(2 * (9 / 10), 1);
    const p99 = a.quantile({ signal: 'cache_operation_duration' }, 0.99, 60_000)[0]!.value;
    expect(p99).toBeGreaterThan(0.025);
    expect(p99).toBeLessThan(0.036);
    expect(a.value({ signal: 'breaker_state' })).toEqual([]);
    clock.advance(16 * 60_000);
    expect(a.rate({ signal: 'cache_lookups' }, 15 * 60_000)[0]!.value).toBe(0);
    expect(() => a.rate({ signal: 'cache_lookups' }, 999)).toThrow(/window/);
    expect(() => a.quantile({ signal: 'cache_lookups' }, 0.5, 60_000)).toThrow(/histogram/);
  });

  it('never throws into the publisher on a malformed payload, and counts it', async () => {
    const m = make();
    expect(() => channels.cache.invalidate.publish({ namespace: 'x' } as never)).not.toThrow();
    expect(() => diagnosticsChannel.channel('perf:breaker:call').publish(undefined)).not.toThrow();
    expect(await sample(m, 'perf_metrics_event_errors_total', { channel: 'perf:cache:invalidate' })).toBe(1);
    expect(await sample(m, 'perf_metrics_event_errors_total', { channel: 'perf:breaker:call' })).toBe(1);
  });

  it('close() unsubscribes every channel and removes its metrics from the registry', async () => {
    expect(CHANNEL_NAMES.some((n) => diagnosticsChannel.hasSubscribers(n))).toBe(false);
    const m = createMetrics();
    expect(CHANNEL_NAMES.every((n) => diagnosticsChannel.hasSubscribers(n))).toBe(true);
    await m.close();
    await m.close();
    expect(CHANNEL_NAMES.some((n) => diagnosticsChannel.hasSubscribers(n))).toBe(false);
    expect(m.registry.getMetricsAsArray()).toHaveLength(0);
    await expect(m.render()).rejects.toMatchObject({ code: 'ERR_PERF_CLOSED' });
  });

  it('cacheOperationLatency: false leaves perf:cache:operation unobserved and records the rest', async () => {
    const m = make({ cacheOperationLatency: false });
    expect(diagnosticsChannel.hasSubscribers('perf:cache:operation')).toBe(false);
    expect(diagnosticsChannel.hasSubscribers('perf:cache:hit')).toBe(true);
    channels.cache.hit.publish({ namespace: 'q', key: 'k', tier: 'l1' });
    expect(await sample(m, 'perf_cache_lookups_total', { namespace: 'q', tier: 'l1', result: 'hit' })).toBe(
      1,
    );
  });

  it('two instances keep separate registries and never share series', async () => {
    const a = make();
    channels.cache.hit.publish({ namespace: 'one', key: 'k', tier: 'l1' });
    const b = make({ prefix: 'other_' });
    channels.cache.hit.publish({ namespace: 'two', key: 'k', tier: 'l1' });
    expect(a.registry).not.toBe(b.registry);
    expect(await sample(a, 'perf_cache_lookups_total', { namespace: 'one', tier: 'l1', result: 'hit' })).toBe(
      1,
    );
    expect(
      await sample(b, 'other_cache_lookups_total', { namespace: 'one', tier: 'l1', result: 'hit' }),
    ).toBe(undefined);
    expect(
      await sample(b, 'other_cache_lookups_total', { namespace: 'two', tier: 'l1', result: 'hit' }),
    ).toBe(1);
  });
});

describe('cardinality guard', () => {
  it('folds label values past the budget into __other__ and counts each one', async () => {
    const m = make({ maxLabelValues: 3 });
    for (let i = 0; i < 10; i++)
      channels.cache.hit.publish({ namespace: `session:${i}`, key: 'k', tier: 'l1' });
    channels.cache.hit.publish({ namespace: 'session:1', key: 'k', tier: 'l1' });
    const text = await m.render();
    const lines = text.split('\n').filter((l) => l.startsWith('perf_cache_lookups_total{'));
    expect(lines).toHaveLength(4);
    expect(
      await sample(m, 'perf_cache_lookups_total', { namespace: 'session:1', tier: 'l1', result: 'hit' }),
    ).toBe(2);
    expect(
      await sample(m, 'perf_cache_lookups_total', {
        namespace: OTHER_LABEL_VALUE,
        tier: 'l1',
        result: 'hit',
      }),
    ).toBe(7);
    expect(
      await sample(m, 'perf_metrics_label_overflow_total', {
        metric: 'perf_cache_lookups_total',
        label: 'namespace',
      }),
    ).toBe(7);
  });
});

describe('cardinality guard: series per metric', () => {
  it('folds a new label set past maxSeriesPerMetric into all-__other__, counted with label "*"', async () => {
    const m = make({ maxSeriesPerMetric: 4 });
    for (let i = 0; i < 3; i++) {
      for (const tier of ['l1', 'l2', 'l3'] as const)
        channels.cache.hit.publish({ namespace: `n${i}`, key: 'k', tier });
    }
    const lines = (await m.render()).split('\n').filter((l) => l.startsWith('perf_cache_lookups_total{'));
    expect(lines).toHaveLength(5);
    expect(lines).toContain(
      'perf_cache_lookups_total{namespace="__other__",tier="__other__",result="__other__"} 5',
    );
    expect(
      await sample(m, 'perf_metrics_label_overflow_total', {
        metric: 'perf_cache_lookups_total',
        label: '*',
      }),
    ).toBe(5);
  });
});

describe('nothing leaks after close()', () => {
  it('leaves no timer or subscription behind (streams: see dashboard tests)', async () => {
    const clock = new ManualClock();
    const m = createMetrics({ clock, alerts: { evaluateEveryMs: 1000 } });
    expect(clock.pendingTimers).toBe(1);
    channels.cache.hit.publish({ namespace: 'leak', key: 'k', tier: 'l1' });
    await m.render('openmetrics');
    await m.close();
    expect(clock.pendingTimers).toBe(0);
    expect(CHANNEL_NAMES.some((n) => diagnosticsChannel.hasSubscribers(n))).toBe(false);
  });
});

describe('exposition', () => {
  it('the full output, every family populated, passes promtool check metrics', async () => {
    const m = make();
    publishEverything();
    m.httpMiddleware({ route: () => '/users/:id' });
    const text = await m.render('prometheus');
    for (const family of [
      'perf_dedup_requests_total',
      'perf_cache_lookups_total',
      'perf_cache_operation_duration_seconds_bucket',
      'perf_breaker_state',
      'perf_cache_hit_ratio',
    ]) {
      expect(text).toContain(`\n${family}{`);
    }
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out.trim()).toBe('');
  });

  it('alternating OpenMetrics and Prometheus scrapes keep counter names right in both', async () => {
    const m = make();
    publishEverything();
    for (let i = 0; i < 2; i++) {
      const om = await m.render('openmetrics');
      expect(om).toContain('# TYPE perf_cache_lookups counter');
      expect(om).toContain('perf_cache_lookups_total{namespace="chat",tier="l1",result="hit"} 2');
      expect(om).not.toContain('_total_total');
      expect(om.endsWith('# EOF\n')).toBe(true);
      const text = await m.render('prometheus');
      expect(text).toContain('# TYPE perf_cache_lookups_total counter');
      expect(text).not.toContain('# EOF');
    }
    const [om, text] = await Promise.all([m.render('openmetrics'), m.render('prometheus')]);
    expect(om).toContain('# TYPE perf_cache_lookups counter');
    expect(text).toContain('# TYPE perf_cache_lookups_total counter');
  });
});
