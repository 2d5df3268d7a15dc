import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { channels, ManualClock } from '@perf/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type DashboardSnapshot, type Metrics } from '../src/index.js';
import { eventually } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(m: Metrics): Promise<string> {
  const server = createServer((req, res) => m.dashboard(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
}

/** Opens an SSE stream and collects its snapshots. */
function stream(url: string, headers: Record<string, string> = {}) {
  const snapshots: DashboardSnapshot[] = [];
  let status = 0;
  let ended = false;
  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
    status = res.statusCode ?? 0;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = event.split('\n').find((l) => l.startsWith('data: '));
        if (data) snapshots.push(JSON.parse(data.slice(6)));
      }
    });
    res.on('end', () => {
      ended = true;
    });
  });
  req.on('error', () => {
    ended = true;
  });
  req.end();
  cleanups.push(() => req.destroy());
  return { snapshots, status: () => status, ended: () => ended, close: () => req.destroy() };
}

describe('dashboard', () => {
  it('serves a self-contained HTML page (no external assets) and a JSON snapshot', async () => {
    const m = createMetrics({ dashboard: { title: 'Chat <prod>' } });
    cleanups.push(() => m.close());
    const url = await serve(m);
    const page = await fetch(url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<title>Chat &#60;prod&#62;</title>');
    expect(html).toContain('new EventSource(');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    channels.cache.hit.publish({ namespace: 'd', key: 'k', tier: 'l1' });
    channels.cache.miss.publish({ namespace: 'd', key: 'k', tier: 'l2' });
    const snap = (await (await fetch(`${url}?format=json`)).json()) as DashboardSnapshot;
    expect(snap.hitRatio).toEqual({ l1: 1, l2: 0, l3: null, overall: null });
  });

  it('streams snapshots over SSE on its timer, with live values, and ends streams on close()', async () => {
    const m = createMetrics({ dashboard: { intervalMs: 50 } });
    cleanups.push(() => m.close());
    const url = await serve(m);
    const s = stream(url);
    await eventually(() => s.snapshots.length >= 1);
    expect(s.status()).toBe(200);
    for (let i = 0; i < 10; i++) {
      channels.dedup.lead.publish({ name: 'q', key: 'k', correlationId: 'a' });
      channels.dedup.join.publish({ name: 'q', key: 'k', correlationId: 'b', leaderCorrelationId: 'a' });
      channels.breaker.state.publish({ name: 'pay', from: 'closed', to: 'half-open' });
      channels.cache.operation.publish({ namespace: 'd', operation: 'get', result: 'l2', durationMs: 4 });
    }
    const live = await eventually(() => s.snapshots.find((x) => x.dedupRatio !== null));
    expect(live.dedupRatio).toBe(0.5);
    expect(live.rates.dedup).toBeCloseTo(2);
    expect(live.breakers).toEqual([{ name: 'pay', state: 'half-open' }]);
    expect(live.latency.cache.p50).toBeGreaterThan(3);
    expect(live.latency.cache.p50).toBeLessThan(5);
    expect(live.hitRatio.overall).toBe(1);
    await m.close();
    await eventually(() => s.ended());
  });

  it('bounds open streams, and stops its timer when the last stream goes', async () => {
    const clock = new ManualClock();
    const m = createMetrics({ clock, dashboard: { maxClients: 2, intervalMs: 1000 } });
    cleanups.push(() => m.close());
    const url = await serve(m);
    const a = stream(url);
    const b = stream(url);
    await eventually(() => a.snapshots.length === 1 && b.snapshots.length === 1);
    const c = stream(url);
    await eventually(() => c.status() === 503);
    clock.advance(1000);
    await eventually(() => a.snapshots.length === 2);
    const timers = clock.pendingTimers;
    a.close();
    b.close();
    await eventually(() => clock.pendingTimers === timers - 1);
  });

  it('requires the token (header, or ?token= for EventSource) when one is set', async () => {
    const m = createMetrics({ token: 'tok' });
    cleanups.push(() => m.close());
    const url = await serve(m);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}?token=nope`)).status).toBe(401);
    expect((await fetch(`${url}?token=tok`)).status).toBe(200);
    expect((await fetch(url, { headers: { authorization: 'Bearer tok' } })).status).toBe(200);
    const s = stream(`${url}?token=tok`);
    await eventually(() => s.snapshots.length === 1);
  });

  it('shows firing alerts', async () => {
    const clock = new ManualClock();
    const m = createMetrics({
      clock,
      alerts: {
        rules: [
          {
            name: 'Open',
            expr: { value: { signal: 'breaker_state', match: { state: 'open' } } },
            threshold: 0,
            by: ['name'],
          },
        ],
      },
    });
    cleanups.push(() => m.close());
    channels.breaker.state.publish({ name: 'db', from: 'closed', to: 'open' });
    m.alerts.evaluate();
    expect(m.dashboardSnapshot().alerts).toEqual([
      {
        name: 'Open',
        state: 'firing',
        labels: { alertname: 'Open', severity: 'warning', name: 'db' },
        value: 1,
      },
    ]);
  });
});
