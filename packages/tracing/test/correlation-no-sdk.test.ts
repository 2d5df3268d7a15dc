/**
 * The correlation hooks while no OpenTelemetry SDK is registered: ids, headers and the
 * AsyncLocalStorage scope work alone, and an SDK set up after the server started (or shut down
 * again) is followed from the next request on. Its own file: it needs a process whose global
 * tracer provider starts empty.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import { correlationId, correlationMiddleware, correlationPlugin, setupTracing } from '../src/index.js';
import { tracingInactive } from '../src/server-span.js';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver.close();
});

interface Answer {
  header: string | null;
  id: string | undefined;
}

async function ask(base: string, path: string, id?: string): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { headers: id ? { 'x-correlation-id': id } : {} });
  const body = (await r.json()) as { id?: string };
  return { header: r.headers.get('x-correlation-id'), id: body.id };
}

async function twoSetups(
  tag: string,
  base: string,
  route: string,
  path: (n: number) => string,
): Promise<void> {
  // 1. Nothing registered: only the correlation scope.
  expect(tracingInactive()).toBe(true);
  expect(await ask(base, path(1), `pre-sdk-1-${tag}`)).toEqual({
    header: `pre-sdk-1-${tag}`,
    id: `pre-sdk-1-${tag}`,
  });
  const fresh = await ask(base, path(2));
  expect(fresh.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(fresh.header).toBe(fresh.id);
  expect((await ask(base, path(3), 'bad id')).id).not.toBe('bad id');

  // 2. An SDK set up after the server started: the next request gets its SERVER span.
  const handle = setupTracing({
    serviceName: 'late',
    endpoint: receiver.url,
    batch: { scheduledDelayMs: 20 },
  });
  try {
    expect(tracingInactive()).toBe(false);
    expect(await ask(base, path(4), `with-sdk-1-${tag}`)).toEqual({
      header: `with-sdk-1-${tag}`,
      id: `with-sdk-1-${tag}`,
    });
    const spans = await receiver.waitFor((s) =>
      s.some((x) => x.attributes['perf.correlation_id'] === `with-sdk-1-${tag}`),
    );
    const span = spans.find((x) => x.attributes['perf.correlation_id'] === `with-sdk-1-${tag}`)!;
    expect(span.name).toBe(route ? `GET ${route}` : 'GET');
    expect(span.attributes['http.response.status_code']).toBe(200);
  } finally {
    await handle.shutdown();
  }

  // 3. Shut down again: back to the scope alone, and nothing more is exported.
  expect(tracingInactive()).toBe(true);
  const before = receiver.spans.length;
  expect(await ask(base, path(5), `post-sdk-1-${tag}`)).toEqual({
    header: `post-sdk-1-${tag}`,
    id: `post-sdk-1-${tag}`,
  });
  expect(receiver.spans.length).toBe(before);
}

describe('with no SDK registered', () => {
  it('correlationPlugin keeps ids, and follows an SDK set up or shut down later', async () => {
    const app = Fastify();
    await app.register(correlationPlugin);
    app.get('/items/:n', async () => {
      await new Promise((r) => setTimeout(r, 1));
      return { id: correlationId() };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await twoSetups('fastify', base, '/items/:n', (n) => `/items/${n}`);
    } finally {
      await app.close();
    }
  });

  it('correlationMiddleware does the same on node:http', async () => {
    const correlate = correlationMiddleware();
    const server = http.createServer((req, res) =>
      correlate(req, res, () => {
        setTimeout(() => res.end(JSON.stringify({ id: correlationId() })), 1);
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await twoSetups('http', base, '', (n) => `/x/${n}`);
    } finally {
      server.close();
    }
  });
});
