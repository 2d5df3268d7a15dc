import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import {
  propagatingFetch,
  propagatingRequest,
  setupTracing,
  type TracingHandle,
  traceHeaders,
  withCorrelation,
} from '../src/index.js';

let receiver: OtlpReceiver;
let handle: TracingHandle;
let echo: http.Server;
let base: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  handle = setupTracing({ serviceName: 'prop', endpoint: receiver.url, batch: { scheduledDelayMs: 20 } });
  echo = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.statusCode = req.url === '/fail' ? 503 : 200;
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});
afterAll(async () => {
  echo.close();
  await handle.shutdown();
  await receiver.close();
});

const tracer = () => trace.getTracer('prop-test');

describe('outbound propagation', () => {
  it('traceHeaders(): traceparent and correlation id of the current context', () => {
    expect(traceHeaders()).toEqual({});
    tracer().startActiveSpan('op', (span) => {
      withCorrelation('c-1', () => {
        const h = traceHeaders();
        expect(h.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
        expect(h['x-correlation-id']).toBe('c-1');
      });
      span.end();
    });
  });

  it('propagatingFetch: injects headers under a CLIENT span; caller headers win; errors recorded', async () => {
    const f = propagatingFetch();
    const { headers, traceId } = await tracer().startActiveSpan('caller', async (span) => {
      const r = await withCorrelation('c-2', () =>
        f(`${base}/ok?token=secret`, { headers: { 'x-custom': '1' } }),
      );
      span.end();
      return { headers: (await r.json()) as Record<string, string>, traceId: span.spanContext().traceId };
    });
    expect(headers['x-correlation-id']).toBe('c-2');
    expect(headers['x-custom']).toBe('1');
    expect(headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const own = await withCorrelation('c-3', () =>
      f(new Request(`${base}/ok`, { headers: { 'x-correlation-id': 'mine' } })),
    );
    expect(((await own.json()) as Record<string, string>)['x-correlation-id']).toBe('mine');

    await tracer().startActiveSpan('failing', async (span) => {
      await f(`${base}/fail`);
      await expect(f('http://127.0.0.1:9/refused')).rejects.toThrow();
      span.end();
    });
    const spans = await receiver.waitFor((s) => s.filter((x) => x.kind === 3).length >= 3);
    const clients = spans.filter((x) => x.kind === 3);
    const ok = clients.find((x) => x.attributes['url.full'] === `${base}/ok`)!;
    expect(ok.traceId).toBe(traceId);
    expect(headers.traceparent).toContain(ok.spanId); // B's parent is our CLIENT span
    expect(ok.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
    expect(JSON.stringify(ok)).not.toContain('secret'); // no query string on spans
    expect(clients.find((x) => x.attributes['url.full'] === `${base}/fail`)!.status.code).toBe(2);
    expect(clients.find((x) => String(x.attributes['url.full']).includes(':9/'))!.status.code).toBe(2);
  });

  it('propagatingFetch without a sampled parent makes no span but still passes the correlation id', async () => {
    const before = receiver.spans.length;
    const r = await withCorrelation('c-4', () => propagatingFetch()(`${base}/ok`));
    const h = (await r.json()) as Record<string, string>;
    expect(h['x-correlation-id']).toBe('c-4');
    expect(h.traceparent).toBeUndefined();
    await handle.forceFlush();
    expect(receiver.spans.length).toBe(before);
  });

  it('propagatingRequest: node:http with the same headers and a CLIENT span', async () => {
    const headers = await tracer().startActiveSpan('caller-http', async (span) => {
      const h = await withCorrelation(
        'c-5',
        () =>
          new Promise<Record<string, string>>((resolve, reject) => {
            const req = propagatingRequest(
              `${base}/ok`,
              { method: 'POST', headers: { 'Content-Type': 'text/plain' } },
              (res) => {
                let body = '';
                res.on('data', (c) => (body += c));
                res.on('end', () => resolve(JSON.parse(body)));
              },
            );
            req.on('error', reject);
            req.end('hi');
          }),
      );
      span.end();
      return h;
    });
    expect(headers['x-correlation-id']).toBe('c-5');
    expect(headers['content-type']).toBe('text/plain');
    const spans = await receiver.waitFor((s) =>
      s.some((x) => x.kind === 3 && x.attributes['http.request.method'] === 'POST'),
    );
    const post = spans.find((x) => x.kind === 3 && x.attributes['http.request.method'] === 'POST')!;
    expect(headers.traceparent).toBe(`00-${post.traceId}-${post.spanId}-01`);
    expect(() => propagatingRequest('ftp://x')).toThrow(/url must be an http\(s\) URL/);
    expect(() => propagatingFetch('nope' as never)).toThrow(/fetchImpl/);
  });
});
