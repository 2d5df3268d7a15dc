import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@perf/core';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics, UNMATCHED_ROUTE } from '../src/index.js';
import { eventually, installContextManager, withSpan } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function make() {
  const m = createMetrics({ clock: new ManualClock() });
  cleanups.push(() => m.close());
  return m;
}

async function listen(server: Server): Promise<string> {
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

async function requestLines(m: Metrics): Promise<string[]> {
  return (await m.render()).split('\n').filter((l) => l.startsWith('perf_http_requests_total{'));
}

describe('HTTP RED middleware (Express)', () => {
  it('labels by route template (nested routers included), method and status class, never raw paths', async () => {
    const m = make();
    const app = express();
    app.use(m.httpMiddleware());
    app.get('/users/:id', (_req, res) => {
      res.json({ ok: true });
    });
    const api = express.Router();
    api.post('/orders/:orderId/items', (_req, res) => {
      res.status(503).end();
    });
    app.use('/api', api);
    const url = await listen(createServer(app));
    for (const id of ['1', '2', '3']) await (await fetch(`${url}/users/${id}`)).text();
    await (await fetch(`${url}/api/orders/77/items`, { method: 'POST' })).text();
    await (await fetch(`${url}/nope/123`)).text();
    const lines = await eventually(async () => {
      const l = await requestLines(m);
      return l.length === 3 ? l : undefined;
    });
    expect(lines).toContain('perf_http_requests_total{method="GET",route="/users/:id",status_class="2xx"} 3');
    expect(lines).toContain(
      'perf_http_requests_total{method="POST",route="/api/orders/:orderId/items",status_class="5xx"} 1',
    );
    expect(lines).toContain(
      `perf_http_requests_total{method="GET",route="${UNMATCHED_ROUTE}",status_class="4xx"} 1`,
    );
    const all = await m.render();
    expect(all).not.toMatch(/route="\/users\/\d/);
    // After close() the middleware only passes requests on.
    const family = m.registry.getSingleMetric('perf_http_requests_total')!;
    await m.close();
    expect(await (await fetch(`${url}/users/9`)).json()).toEqual({ ok: true });
    const after = await family.get();
    expect(after.values.find((v) => v.labels.route === '/users/:id')?.value).toBe(3);
    expect(all).toContain(
      'perf_http_request_duration_seconds_count{method="GET",route="/users/:id",status_class="2xx"} 3',
    );
  });
});

describe('HTTP RED middleware (node:http)', () => {
  it('uses the route function, skips ignored requests, folds odd methods into OTHER', async () => {
    const m = make();
    const mw = m.httpMiddleware({
      route: (req) => (req.url?.startsWith('/items/') ? '/items/:id' : undefined),
      ignore: (req) => req.url === '/metrics',
    });
    const url = await listen(
      createServer((req, res) => {
        mw(req, res);
        res.statusCode = req.url === '/items/9' ? 404 : 200;
        res.end('x');
      }),
    );
    await (await fetch(`${url}/items/5`)).text();
    await (await fetch(`${url}/items/9`)).text();
    await (await fetch(`${url}/metrics`)).text();
    await (await fetch(`${url}/items/5`, { method: 'PROPFIND' })).text();
    const lines = await eventually(async () => {
      const l = await requestLines(m);
      return l.length === 3 ? l : undefined;
    });
    expect(lines.sort()).toEqual(
      [
        'perf_http_requests_total{method="GET",route="/items/:id",status_class="2xx"} 1',
        'perf_http_requests_total{method="GET",route="/items/:id",status_class="4xx"} 1',
        'perf_http_requests_total{method="OTHER",route="/items/:id",status_class="2xx"} 1',
      ].sort(),
    );
  });

  it('records a request the client abandoned as status_class="aborted"', async () => {
    const m = make();
    const mw = m.httpMiddleware({ route: () => '/slow' });
    let arrived: () => void = () => {};
    const reached = new Promise<void>((r) => {
      arrived = r;
    });
    const url = await listen(
      createServer((req, res) => {
        mw(req, res);
        arrived(); // never answers; the client aborts
      }),
    );
    const controller = new AbortController();
    const pending = fetch(`${url}/slow`, { signal: controller.signal }).catch(() => undefined);
    await reached;
    controller.abort();
    await pending;
    const lines = await eventually(async () => {
      const l = await requestLines(m);
      return l.length === 1 ? l : undefined;
    });
    expect(lines[0]).toBe('perf_http_requests_total{method="GET",route="/slow",status_class="aborted"} 1');
  });
});

describe('HTTP exemplars', () => {
  it('carry the trace id of the sampled span active when the request started', async () => {
    cleanups.push(installContextManager());
    const m = make();
    const mw = m.httpMiddleware({ route: () => '/traced' });
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const url = await listen(
      createServer((req, res) => {
        withSpan(traceId, req.url === '/sampled', () => mw(req, res));
        res.end('ok');
      }),
    );
    await (await fetch(`${url}/sampled`)).text();
    await (await fetch(`${url}/unsampled`)).text();
    await eventually(async () => (await requestLines(m)).length === 1);
    const om = await m.render('openmetrics');
    const exemplars = om
      .split('\n')
      .filter((l) => l.startsWith('perf_http_request_duration_seconds_bucket') && l.includes('# {'));
    expect(exemplars).toHaveLength(1);
    expect(exemplars[0]).toContain(`# {trace_id="${traceId}"}`);
  });
});

describe('HTTP RED plugin (Fastify)', () => {
  it('labels by routeOptions.url across encapsulated plugins, 404s as unmatched', async () => {
    const m = make();
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(m.fastifyPlugin({ ignore: (req) => req.url === '/health' }));
    await app.register(
      async (child) => {
        child.get('/things/:id', async () => ({ ok: true }));
      },
      { prefix: '/v1' },
    );
    app.get('/health', async () => 'ok');
    for (const id of ['a', 'b']) await app.inject({ method: 'GET', url: `/v1/things/${id}` });
    await app.inject({ method: 'GET', url: '/missing/1' });
    await app.inject({ method: 'GET', url: '/health' });
    const lines = await requestLines(m);
    expect(lines.sort()).toEqual(
      [
        'perf_http_requests_total{method="GET",route="/v1/things/:id",status_class="2xx"} 2',
        `perf_http_requests_total{method="GET",route="${UNMATCHED_ROUTE}",status_class="4xx"} 1`,
      ].sort(),
    );
  });
});
