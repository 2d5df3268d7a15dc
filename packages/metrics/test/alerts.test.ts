import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channels, isPerfConfigError, ManualClock, type PerfConfigError } from '@perf/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type AlertNotification,
  type AlertRule,
  callbackNotifier,
  createMetrics,
  loadAlertRules,
  logNotifier,
  type Metrics,
  parseAlertRules,
  toPrometheusRules,
} from '../src/index.js';
import { sample } from './helpers.js';

const open: Metrics[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

const errorRate: AlertRule = {
  name: 'BreakerFailing',
  expr: {
    ratio: {
      numerator: { signal: 'breaker_calls', match: { outcome: 'failure' } },
      denominator: { signal: 'breaker_calls' },
    },
    window: '1m',
  },
  op: '>',
  threshold: 0.5,
  for: '30s',
  keepFiringFor: '20s',
  by: ['name'],
  severity: 'critical',
  labels: { team: 'core' },
  annotations: { summary: 'More than half of the calls through {{ $labels.name }} fail' },
};

function setup(rules: AlertRule[] = [errorRate]) {
  const clock = new ManualClock();
  const seen: AlertNotification[] = [];
  const m = createMetrics({
    clock,
    alerts: { rules, notifiers: [callbackNotifier((n) => void seen.push(n))], evaluateEveryMs: 5000 },
  });
  open.push(m);
  const call = (name: string, outcome: 'success' | 'failure', n = 1) => {
    for (let i = 0; i < n; i++) channels.breaker.call.publish({ name, outcome, durationMs: 1 });
  };
  return { clock, seen, m, call };
}

describe('alert state machine (Prometheus semantics)', () => {
  it('goes inactive → pending → firing after `for`, one alert per label set, then resolves', async () => {
    const { clock, seen, m, call } = setup();
    call('db', 'failure', 8);
    call('db', 'success', 2);
    call('cache', 'success', 10);
    clock.advance(5000);
    expect(m.alerts.active().map((a) => [a.labels.name, a.state])).toEqual([['db', 'pending']]);
    expect(seen).toEqual([]);
    clock.advance(25_000);
    expect(m.alerts.active()[0]!.state).toBe('pending');
    call('db', 'failure', 8);
    clock.advance(5000); // 30 s after it became active
    const firing = m.alerts.firing();
    expect(firing).toHaveLength(1);
    expect(firing[0]!.labels).toEqual({
      alertname: 'BreakerFailing',
      severity: 'critical',
      team: 'core',
      name: 'db',
    });
    expect(seen.map((n) => n.status)).toEqual(['firing']);
    expect(await sample(m, 'perf_alerts', { alertname: 'BreakerFailing', alertstate: 'firing' })).toBe(1);
    call('other', 'failure', 10);
    clock.advance(5000);
    expect(
      m.alerts
        .active()
        .map((a) => `${a.labels.name}:${a.state}`)
        .sort(),
    ).toEqual(['db:firing', 'other:pending']);
    expect(await sample(m, 'perf_alerts', { alertname: 'BreakerFailing', alertstate: 'pending' })).toBe(1);
    // Successes push the ratio under 0.5; keepFiringFor (20 s) then runs out.
    call('db', 'success', 100);
    call('other', 'success', 100);
    clock.advance(5000);
    expect(m.alerts.active().map((a) => `${a.labels.name}:${a.state}`)).toEqual(['db:firing']);
    clock.advance(10_000); // 15 s after the condition last held: keepFiringFor (20 s) still holds it
    expect(m.alerts.firing()).toHaveLength(1);
    clock.advance(5000);
    expect(m.alerts.active()).toEqual([]);
    expect(seen.map((n) => `${n.status}:${n.alert.labels.name}`)).toEqual(['firing:db', 'resolved:db']);
    const resolved = seen[1]!.alert;
    expect(resolved.state).toBe('resolved');
    expect(resolved.resolvedAt! - resolved.firedAt!).toBe(25_000);
    expect(m.alerts.history()).toHaveLength(1);
    expect(await sample(m, 'perf_alerts', { alertname: 'BreakerFailing', alertstate: 'firing' })).toBe(0);
    expect(await sample(m, 'perf_alerts', { alertname: 'BreakerFailing', alertstate: 'pending' })).toBe(0);
  });

  it('a pending alert whose condition stops is dropped without any notification', () => {
    const { clock, seen, m, call } = setup();
    call('db', 'failure', 10);
    clock.advance(5000);
    expect(m.alerts.active()[0]!.state).toBe('pending');
    call('db', 'success', 100);
    clock.advance(5000);
    expect(m.alerts.active()).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('keepFiringFor holds a flapping alert firing; for: 0 fires at the first evaluation', () => {
    const { clock, seen, m } = setup([
      {
        name: 'BreakerOpen',
        expr: { value: { signal: 'breaker_state', match: { state: 'open' } } },
        threshold: 0,
        by: ['name'],
        keepFiringFor: '1m',
      },
    ]);
    const move = (from: 'closed' | 'open', to: 'closed' | 'open') =>
      channels.breaker.state.publish({ name: 'db', from, to });
    move('closed', 'open');
    expect(m.alerts.evaluate().map((n) => n.status)).toEqual(['firing']);
    for (let i = 0; i < 5; i++) {
      move('open', 'closed');
      clock.advance(10_000);
      m.alerts.evaluate();
      move('closed', 'open');
      clock.advance(10_000);
    }
    expect(seen.map((n) => n.status)).toEqual(['firing']);
    move('open', 'closed');
    clock.advance(60_000);
    expect(seen.map((n) => n.status)).toEqual(['firing', 'resolved']);
  });

  it('quantile and rate rules evaluate over the windows', () => {
    const { clock, m } = setup([
      {
        name: 'SlowCache',
        expr: { quantile: 0.99, of: { signal: 'cache_operation_duration' }, window: '1m' },
        threshold: 0.1,
        by: ['namespace'],
      },
      { name: 'Busy', expr: { rate: { signal: 'cache_lookups' }, window: '10s' }, op: '>=', threshold: 2 },
    ]);
    for (let i = 0; i < 20; i++) {
      channels.cache.operation.publish({ namespace: 'fast', operation: 'get', result: 'l1', durationMs: 1 });
      channels.cache.operation.publish({
        namespace: 'slow',
        operation: 'get',
        result: 'l3',
        durationMs: 400,
      });
      channels.cache.hit.publish({ namespace: 'fast', key: 'k', tier: 'l1' });
      channels.cache.miss.publish({ namespace: 'fast', key: 'k', tier: 'l1' });
      clock.advance(500);
    }
    m.alerts.evaluate();
    expect(
      m.alerts
        .firing()
        .map((a) => `${a.name}:${a.labels.namespace ?? ''}`)
        .sort(),
    ).toEqual(['Busy:', 'SlowCache:slow']);
  });

  it('a throwing or rejecting notifier is counted and does not stop evaluation or other notifiers', async () => {
    const { clock, m, call, seen } = setup([
      {
        name: 'AnyFailure',
        expr: { rate: { signal: 'breaker_calls', match: { outcome: 'failure' } }, window: '1m' },
        threshold: 0,
      },
    ]);
    m.alerts.addNotifier({
      notify() {
        throw new Error('boom');
      },
    });
    m.alerts.addNotifier({ notify: () => Promise.reject(new Error('later boom')) });
    call('x', 'failure');
    clock.advance(5000);
    await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(1);
    expect(m.alerts.stats()).toMatchObject({ notifications: 1, notifierErrors: 2 });
  });

  it('bounds active alerts (maxAlerts) and resolved history (historySize)', () => {
    const clock = new ManualClock();
    const m = createMetrics({
      clock,
      alerts: {
        rules: [
          {
            name: 'Failing',
            expr: { rate: { signal: 'breaker_calls', match: { outcome: 'failure' } }, window: '10s' },
            threshold: 0,
            by: ['name'],
          },
        ],
        maxAlerts: 3,
        historySize: 2,
      },
    });
    open.push(m);
    for (let i = 0; i < 5; i++)
      channels.breaker.call.publish({ name: `b${i}`, outcome: 'failure', durationMs: 1 });
    m.alerts.evaluate();
    expect(m.alerts.firing()).toHaveLength(3);
    expect(m.alerts.stats().droppedAlerts).toBe(2);
    clock.advance(20_000);
    m.alerts.evaluate();
    expect(m.alerts.active()).toEqual([]);
    expect(m.alerts.history()).toHaveLength(2);
  });

  it('callbackNotifier refuses a non-function', () => {
    expect(() => callbackNotifier('x' as never)).toThrow(/callbackNotifier: fn must be a function/);
  });

  it('logNotifier writes firing with warn and resolved with info', () => {
    const lines: string[] = [];
    const n = logNotifier({ warn: (s) => lines.push(`W ${s}`), info: (s) => lines.push(`I ${s}`) });
    const alert = {
      name: 'A',
      state: 'firing' as const,
      labels: { alertname: 'A', name: 'db' },
      annotations: {},
      value: 2,
      activeAt: 0,
    };
    n.notify({ status: 'firing', alert });
    n.notify({ status: 'resolved', alert: { ...alert, state: 'resolved' } });
    expect(lines).toEqual([
      'W [alert firing] A value=2 alertname="A" name="db"',
      'I [alert resolved] A value=2 alertname="A" name="db"',
    ]);
  });

  it('close() stops the evaluation timer', async () => {
    const { clock, m, call, seen } = setup();
    await m.close();
    call('db', 'failure', 10);
    clock.advance(120_000);
    expect(seen).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('alert rule validation', () => {
  function configError(fn: () => unknown): PerfConfigError {
    try {
      fn();
    } catch (error) {
      expect(isPerfConfigError(error)).toBe(true);
      return error as PerfConfigError;
    }
    throw new Error('expected a PerfConfigError');
  }

  it.each([
    [{ ...errorRate, name: 'bad name' }, 'alerts.rules[0].name'],
    [{ ...errorRate, threshold: Number.NaN }, 'alerts.rules[0].threshold'],
    [{ ...errorRate, for: '5 minutes' }, 'alerts.rules[0].for'],
    [{ ...errorRate, by: ['namespace'] }, 'alerts.rules[0].by'],
    [{ ...errorRate, op: '=>' }, 'alerts.rules[0].op'],
    [{ ...errorRate, expr: { rate: { signal: 'nope' }, window: '1m' } }, 'alerts.rules[0].expr.rate.signal'],
    [
      { ...errorRate, expr: { rate: { signal: 'cache_lookups' }, window: '1h' } },
      'alerts.rules[0].expr.window',
    ],
    [
      { ...errorRate, expr: { rate: { signal: 'cache_lookups', match: { route: 'x' } }, window: '1m' } },
      'alerts.rules[0].expr.rate.match.route',
    ],
    [
      { ...errorRate, expr: { quantile: 2, of: { signal: 'http_request_duration' }, window: '1m' } },
      'alerts.rules[0].expr.quantile',
    ],
    [{ ...errorRate, expr: { value: { signal: 'cache_lookups' } } }, 'alerts.rules[0].expr.value.signal'],
    [{ ...errorRate, expr: {} }, 'alerts.rules[0].expr'],
    [{ ...errorRate, severty: 'x' }, 'alerts.rules[0].severty'],
  ])('refuses a bad rule (case %#)', (rule, field) => {
    const e = configError(() => createMetrics({ alerts: { rules: [rule as AlertRule] } }));
    expect(e.field).toBe(field);
  });

  it('refuses duplicate rule names', () => {
    const { m } = setup();
    expect(configError(() => m.alerts.add(errorRate)).field).toBe('name');
    expect(m.alerts.remove('BreakerFailing')).toBe(true);
    expect(m.alerts.add(errorRate).name).toBe('BreakerFailing');
  });

  it('does not leave metrics registered when a rule is invalid', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    configError(() =>
      createMetrics({ registry, alerts: { rules: [{ ...errorRate, threshold: 'x' } as never] } }),
    );
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });
});

describe('rules files and Prometheus export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'perf-metrics-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rules: AlertRule[] = [
    errorRate,
    {
      name: 'SlowRequests',
      expr: {
        quantile: 0.99,
        of: { signal: 'http_request_duration', match: { method: 'GET' } },
        window: '5m',
      },
      threshold: 0.5,
      for: '2m',
      by: ['route'],
      annotations: { description: 'p99 "latency" above 500ms\non a route' },
    },
    {
      name: 'LowHitRatio',
      expr: {
        ratio: {
          numerator: { signal: 'cache_lookups', match: { result: 'hit' } },
          denominator: { signal: 'cache_lookups' },
        },
        window: '15m',
      },
      op: '<',
      threshold: 0.8,
      by: ['namespace', 'tier'],
    },
    {
      name: 'BreakerOpen',
      expr: { value: { signal: 'breaker_state', match: { state: 'open' } } },
      threshold: 0,
      by: ['name'],
    },
    { name: 'DedupBusy', expr: { rate: { signal: 'dedup_wait_duration' }, window: '30s' }, threshold: 100 },
  ];

  it('loads rules from a JSON file and reports the bad field', () => {
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ rules }));
    expect(loadAlertRules(file)).toHaveLength(5);
    expect(() => parseAlertRules('{nope')).toThrow(/rules must be valid JSON/);
    let error: unknown;
    try {
      parseAlertRules(JSON.stringify([rules[0], { ...rules[1], for: 'soon' }]));
    } catch (e) {
      error = e;
    }
    expect((error as PerfConfigError).field).toBe('rules[1].for');
  });

  it('exports PromQL with the same meaning, and promtool check rules passes', () => {
    const yaml = toPrometheusRules(rules, { group: 'perf-alerts', interval: '15s' });
    expect(yaml).toContain(
      'expr: "sum by (name) (rate(perf_breaker_calls_total{outcome=\\"failure\\"}[1m])) / sum by (name) (rate(perf_breaker_calls_total[1m])) > 0.5"',
    );
    expect(yaml).toContain(
      'histogram_quantile(0.99, sum by (le, route) (rate(perf_http_request_duration_seconds_bucket{method=\\"GET\\"}[5m]))) > 0.5',
    );
    expect(yaml).toContain('sum by (name) (perf_breaker_state{state=\\"open\\"}) > 0');
    expect(yaml).toContain('sum (rate(perf_dedup_wait_duration_seconds_count[30s])) > 100');
    expect(yaml).toContain('keep_firing_for: 20s');
    expect(yaml).toContain('for: 2m');
    const file = join(dir, 'rules.yml');
    writeFileSync(file, yaml);
    const out = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS: 5 rules found');
    expect(yaml).toContain('    interval: 15s\n');
    expect(() => toPrometheusRules(rules, { interval: 'soon' })).toThrow(/interval must be a duration/);
    expect(() => toPrometheusRules([{ ...errorRate, threshold: 'x' } as never])).toThrow(
      /rules\[0\]\.threshold/,
    );
  });
});
