import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { channels, ManualClock } from '@perf/core';
import { afterEach, describe, expect, it } from 'vitest';
import { installContextManager, withSpan } from './helpers.js';
import { createMetrics, type Metrics, negotiateFormat } from './imports.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(m: Metrics): Promise<string> {
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/metrics')) m.handler(req, res);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function make(options: Parameters<typeof createMetrics>[0] = {}) {
  const m = createMetrics({ clock: new ManualClock(), ...options });
  cleanups.push(() => m.close());
  return m;
}

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['application/openmetrics-text; version=1.0.0', 'openmetrics'],
    [
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
    ],
    ['text/plain;q=1, application/openmetrics-text;q=0.5', 'prometheus'],
    ['application/openmetrics-text;q=0', 'prometheus'],
  ])('%s → %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('metrics.handler', () => {
  it('serves Prometheus text by default and OpenMetrics when asked, with the right content types', async () => {
    const m = make();
    channels.cache.hit.publish({ namespace: 'h', key: 'k', tier: 'l2' });
    const url = await serve(m);
    const text = await fetch(`${url}/metrics`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await text.text()).toContain('perf_cache_lookups_total{namespace="h",tier="l2",result="hit"} 1');
    const om = await fetch(`${url}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect((await om.text()).endsWith('# EOF\n')).toBe(true);
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('requires the bearer token when one is configured', async () => {
    const m = make({ token: 's3cret' });
    const url = await serve(m);
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics?token=s3cret`)).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE perf_cache_lookups_total counter');
  });

  it('answers 503 after close()', async () => {
    const m = createMetrics();
    const url = await serve(m);
    await m.close();
    expect((await fetch(`${url}/metrics`)).status).toBe(503);
  });

  it('yields to the event loop during a large scrape (slices bounded by scrapeSliceMs)', async () => {
    const m = make({ scrapeSliceMs: 1, maxLabelValues: 5000 });
    for (let i = 0; i < 3000; i++) {
      channels.cache.operation.publish({
        namespace: `ns${i}`,
        operation: 'get',
        result: 'l1',
        durationMs: 1,
      });
      channels.cache.hit.publish({ namespace: `ns${i}`, key: 'k', tier: 'l1' });
    }
    let ticks = 0;
    const interval = setInterval(() => ticks++, 0);
    const text = await m.render('prometheus');
    clearInterval(interval);
    expect(text.split('\n').length).toBeGreaterThan(3000 * 20);
    expect(ticks).toBeGreaterThan(0);
    expect(m.lastRenderTiming.metrics).toBeGreaterThan(20);
    expect(m.lastRenderTiming.longestSliceMs).toBeLessThanOrEqual(m.lastRenderTiming.totalMs);
  }, 30_000); // 60,000 lines: takes 1-2 s alone, over 5 s (vitest's default) on a loaded machine
});

describe('exemplars', () => {
  it('attach the trace id of a sampled active span to histogram buckets, in OpenMetrics only', async () => {
    cleanups.push(installContextManager());
    const m = make();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    withSpan(traceId, true, () =>
      channels.cache.operation.publish({ namespace: 'ex', operation: 'get', result: 'l1', durationMs: 3 }),
    );
    withSpan('00000000000000000000000000000001', false, () =>
      channels.cache.operation.publish({ namespace: 'ex', operation: 'get', result: 'miss', durationMs: 3 }),
    );
    const om = await m.render('openmetrics');
    const withExemplar = om.split('\n').filter((l) => l.includes('# {trace_id='));
    expect(withExemplar).toHaveLength(1);
    expect(withExemplar[0]).toMatch(
      new RegExp(
        `^perf_cache_operation_duration_seconds_bucket\\{le="0.005",namespace="ex",operation="get",result="l1"\\} 1 # \\{trace_id="${traceId}"\\} 0.003 \\d+`,
      ),
    );
    expect(await m.render('prometheus')).not.toContain('trace_id');
  });

  it('are off by default on a Prometheus-text registry you pass; asked for, they appear in OpenMetrics only', async () => {
    cleanups.push(installContextManager());
    const { Registry } = await import('prom-client');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const off = make({ registry: new Registry() });
    withSpan(traceId, true, () =>
      channels.cache.operation.publish({ namespace: 'p', operation: 'get', result: 'l1', durationMs: 3 }),
    );
    expect(await off.render('openmetrics')).toContain('perf_cache_operation_duration_seconds_count');
    expect(await off.render('openmetrics')).not.toContain('trace_id');
    await off.close();
    const registry = new Registry();
    const on = make({ registry, exemplars: true });
    withSpan(traceId, true, () =>
      channels.cache.operation.publish({ namespace: 'p', operation: 'get', result: 'l1', durationMs: 3 }),
    );
    expect(await on.render('openmetrics')).toContain(`# {trace_id="${traceId}"}`);
    expect(await registry.metrics()).not.toContain('trace_id');
  });
});
