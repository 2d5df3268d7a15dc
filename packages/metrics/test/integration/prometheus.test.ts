/**
 * A real Prometheus (Debian's `prometheus` binary) scrapes a test server on 127.0.0.1 through
 * `metrics.handler` (bearer token, OpenMetrics negotiation), evaluates the rules exported by
 * `toPrometheusRules`, and is queried over its HTTP API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channels } from '@perf/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertRule, createMetrics, type Metrics, toPrometheusRules } from '../../src/index.js';
import { eventually, freePort, installContextManager, withSpan } from '../helpers.js';

const TOKEN = 'prom-it-token';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
let restoreContext: () => void = () => {};
let dir: string;
let server: Server;
let prometheus: ChildProcess | undefined;
let metrics: Metrics;
let promUrl: string;
let log = '';
let scrapedAccept = '';

const rules: AlertRule[] = [
  {
    name: 'PerfBreakerOpen',
    expr: { value: { signal: 'breaker_state', match: { state: 'open' } } },
    threshold: 0,
    by: ['name'],
    severity: 'critical',
  },
];

async function query(
  expr: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: [] } };
  return body.status === 'success' ? body.data.result : [];
}

beforeAll(async () => {
  restoreContext = installContextManager();
  dir = mkdtempSync(join(tmpdir(), 'perf-metrics-prom-'));
  metrics = createMetrics({ token: TOKEN });
  server = createServer((req, res) => {
    scrapedAccept = String(req.headers.accept ?? '');
    metrics.handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const target = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'rules.yml'), toPrometheusRules(rules));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(join(dir, 'rules.yml'))}`,
      'scrape_configs:',
      '  - job_name: perf',
      '    scrape_interval: 1s',
      '    scrape_timeout: 1s',
      '    authorization:',
      `      credentials: ${TOKEN}`,
      '    static_configs:',
      `      - targets: ["${target}"]`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      '--enable-feature=exemplar-storage',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.on('error', (error) => {
    log += `failed to start prometheus: ${error.message}\n`;
  });
  prometheus.stdout?.on('data', (d) => {
    log += d;
  });
  prometheus.stderr?.on('data', (d) => {
    log += d;
  });
  await eventually(
    async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok,
    30_000,
    200,
  ).catch((error) => {
    throw new Error(`${error}\nprometheus log:\n${log}`);
  });
}, 40_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = once(prometheus, 'exit');
    prometheus.kill('SIGTERM');
    const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await metrics?.close();
  await new Promise((r) => {
    server?.close(r);
    server?.closeAllConnections();
  });
  rmSync(dir, { recursive: true, force: true });
  restoreContext();
});

describe('a real Prometheus scraping metrics.handler', () => {
  it('stores @perf metrics with the values the process recorded', async () => {
    for (let i = 0; i < 5; i++) channels.cache.hit.publish({ namespace: 'prom-it', key: 'k', tier: 'l1' });
    channels.cache.miss.publish({ namespace: 'prom-it', key: 'k', tier: 'l1' });
    withSpan(TRACE_ID, true, () =>
      channels.cache.operation.publish({
        namespace: 'prom-it',
        operation: 'get',
        result: 'l1',
        durationMs: 2,
      }),
    );
    const result = await eventually(
      async () => {
        const r = await query('perf_cache_lookups_total{namespace="prom-it",tier="l1",result="hit"}');
        return r.length === 1 ? r : undefined;
      },
      30_000,
      250,
    ).catch((e) => {
      throw new Error(`${e}\nprometheus log:\n${log}`);
    });
    expect(result[0]!.value[1]).toBe('5');
    const up = await query('up{job="perf"}');
    expect(up[0]!.value[1]).toBe('1');
    expect(scrapedAccept).toContain('application/openmetrics-text');
    const ratio = await eventually(async () => {
      const r = await query('perf_cache_hit_ratio{namespace="prom-it",tier="l1"}');
      return r.length === 1 ? r : undefined;
    }, 15_000);
    expect(Number(ratio[0]!.value[1])).toBeCloseTo(5 / 6);
    const buckets = await query(
      'perf_cache_operation_duration_seconds_bucket{namespace="prom-it",le="0.0025"}',
    );
    expect(buckets[0]!.value[1]).toBe('1');
  }, 45_000);

  it('fires the exported rule the way the in-process rule does', async () => {
    channels.breaker.state.publish({ name: 'prom-db', from: 'closed', to: 'open' });
    metrics.alerts.add({ ...rules[0]!, name: 'PerfBreakerOpenLocal' });
    expect(metrics.alerts.evaluate().map((n) => n.alert.labels.name)).toEqual(['prom-db']);
    const alerts = await eventually(
      async () => {
        const r = await query('ALERTS{alertname="PerfBreakerOpen",alertstate="firing"}');
        return r.length === 1 ? r : undefined;
      },
      30_000,
      250,
    );
    expect(alerts[0]!.metric).toMatchObject({ name: 'prom-db', severity: 'critical' });
  }, 45_000);
});
