/// <reference lib="dom" />
/**
 * The dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core; no browser
 * download): the page loads, its charts redraw with live SSE data, a screenshot is kept in
 * test-artifacts/.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { channels } from '@perf/core';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/index.js';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
let browser: Browser | undefined;
let server: Server;
let metrics: Metrics;
let url: string;
let feeder: NodeJS.Timeout | undefined;

beforeAll(async () => {
  metrics = createMetrics({
    token: 'dash',
    dashboard: { intervalMs: 250, title: '@perf dashboard (browser test)' },
    alerts: {
      rules: [
        {
          name: 'BreakerOpen',
          expr: { value: { signal: 'breaker_state', match: { state: 'open' } } },
          threshold: 0,
          by: ['name'],
        },
      ],
      evaluateEveryMs: 250,
    },
  });
  const mw = metrics.httpMiddleware({ route: () => '/api/messages/:id' });
  server = createServer((req, res) => {
    if (req.url?.startsWith('/dashboard')) return metrics.dashboard(req, res);
    mw(req, res);
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  channels.breaker.state.publish({ name: 'payments', from: 'closed', to: 'open' });
  let i = 0;
  feeder = setInterval(() => {
    i++;
    channels.cache.hit.publish({ namespace: 'chat', key: 'k', tier: 'l1' });
    if (i % 3 === 0) channels.cache.miss.publish({ namespace: 'chat', key: 'k', tier: 'l2' });
    channels.cache.operation.publish({
      namespace: 'chat',
      operation: 'get',
      result: 'l1',
      durationMs: 1 + (i % 7),
    });
    channels.dedup.lead.publish({ name: 'history', key: 'k', correlationId: 'a' });
    if (i % 2 === 0)
      channels.dedup.join.publish({
        name: 'history',
        key: 'k',
        correlationId: 'b',
        leaderCorrelationId: 'a',
      });
    void fetch(`${url}/api/messages/${i}`).then(
      (r) => r.text(),
      () => undefined,
    );
  }, 20);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
}, 40_000);

afterAll(async () => {
  if (feeder) clearInterval(feeder);
  await browser?.close();
  await metrics?.close();
  await new Promise((r) => {
    server?.close(r);
    server?.closeAllConnections();
  });
});

describe('dashboard in headless Chromium', () => {
  it('loads, updates its charts from the live stream, and shows breaker states and alerts', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const response = await page.goto(`${url}/dashboard?token=dash`, { timeout: 15_000 });
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('@perf dashboard (browser test)');
    await page.waitForFunction(
      () => {
        const d = (
          window as unknown as { __perfDashboard?: { updates: number; last: { rates: { http: number } } } }
        ).__perfDashboard;
        return d !== undefined && d.updates >= 4 && d.last.rates.http > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    const state = await page.evaluate(() => {
      const d = (window as unknown as { __perfDashboard: { updates: number; last: Record<string, unknown> } })
        .__perfDashboard;
      const canvas = document.getElementById('rate') as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      return {
        updates: d.updates,
        last: d.last,
        painted,
        breakers: document.getElementById('breakers')!.textContent,
        alerts: document.getElementById('alerts')!.textContent,
        status: document.getElementById('status')!.textContent,
      };
    });
    expect(state.painted).toBeGreaterThan(1000);
    expect(state.breakers).toContain('payments');
    expect(state.breakers).toContain('open');
    expect(state.alerts).toContain('BreakerOpen');
    expect(state.alerts).toContain('firing');
    expect(state.status).toMatch(/^live/);
    const last = state.last as { dedupRatio: number; hitRatio: { l1: number } };
    expect(last.dedupRatio).toBeGreaterThan(0.2);
    expect(last.dedupRatio).toBeLessThan(0.5);
    expect(last.hitRatio.l1).toBe(1);
    const before = state.updates;
    await page.waitForFunction(
      (n) => (window as unknown as { __perfDashboard: { updates: number } }).__perfDashboard.updates >= n + 2,
      before,
      { timeout: 10_000 },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('dashboard.png', ARTIFACTS).pathname, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('refuses the page without the token', async () => {
    const page = await browser!.newPage();
    const response = await page.goto(`${url}/dashboard`, { timeout: 15_000 });
    expect(response?.status()).toBe(401);
    await page.close();
  }, 30_000);
});
