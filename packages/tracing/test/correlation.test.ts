import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, pipeline, Readable, Transform, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { isPerfConfigError, type PerfConfigError } from '@perf/core';
import express from 'express';
import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import {
  correlationId,
  correlationMiddleware,
  correlationPlugin,
  isValidCorrelationId,
  logCorrelation,
  pinoMixin,
  setupTracing,
  type TracingHandle,
  withCorrelation,
} from '../src/index.js';

describe('correlationId / withCorrelation (no SDK needed)', () => {
  it('is undefined outside, set inside, across awaits, timers, immediates and microtasks', async () => {
    expect(correlationId()).toBeUndefined();
    const seen = await withCorrelation('req-1', async () => {
      const out: (string | undefined)[] = [correlationId()];
      await new Promise((r) => setTimeout(r, 2));
      out.push(correlationId());
      await new Promise<void>((r) => setImmediate(() => r(void out.push(correlationId()))));
      await new Promise<void>((r) => queueMicrotask(() => r(void out.push(correlationId()))));
      await new Promise<void>((r) => process.nextTick(() => r(void out.push(correlationId()))));
      return out;
    });
    expect(seen).toEqual(['req-1', 'req-1', 'req-1', 'req-1', 'req-1']);
    expect(correlationId()).toBeUndefined();
  });

  it('keeps concurrent requests apart', async () => {
    const run = (id: string, delay: number) =>
      withCorrelation(id, async () => {
        await new Promise((r) => setTimeout(r, delay));
        return correlationId();
      });
    expect(await Promise.all([run('a', 15), run('b', 1), run('c', 8)])).toEqual(['a', 'b', 'c']);
  });

  it('nests: the inner id wins inside and the outer comes back after', () => {
    withCorrelation('outer', () => {
      expect(withCorrelation('inner', () => correlationId())).toBe('inner');
      expect(correlationId()).toBe('outer');
    });
  });

  it('follows event emitters (emit runs listeners in the emitter context) and streams', async () => {
    const emitter = new EventEmitter();
    const fromEmitter = new Promise<string | undefined>((resolve) =>
      emitter.on('tick', () => resolve(correlationId())),
    );
    withCorrelation('emit-1', () => setTimeout(() => emitter.emit('tick'), 1));
    expect(await fromEmitter).toBe('emit-1');

    const seen: (string | undefined)[] = [];
    await withCorrelation('stream-1', () =>
      promisify(pipeline)(
        Readable.from(['a', 'b', 'c']),
        new Transform({
          transform(chunk, _enc, cb) {
            seen.push(correlationId());
            setTimeout(() => cb(null, chunk), 1);
          },
        }),
        new Writable({
          write(_chunk, _enc, cb) {
            seen.push(correlationId());
            cb();
          },
        }),
      ),
    );
    expect(seen).toHaveLength(6);
    expect(new Set(seen)).toEqual(new Set(['stream-1']));

    // A stream created in one request and read in another keeps each listener's own context.
    const shared = new PassThrough();
    const got = withCorrelation(
      'reader',
      () => new Promise<string | undefined>((r) => shared.once('data', () => r(correlationId()))),
    );
    withCorrelation('writer', () => shared.write('x'));
    expect(await got).toBe('writer'); // emit-time context: data listeners run where write() ran
  });

  it('rejects bad ids and bad functions with a typed error', () => {
    for (const bad of ['', 'a b', 'x'.repeat(129), 'new\nline', '<script>', 42, null, undefined]) {
      let error: unknown;
      try {
        withCorrelation(bad as string, () => 1);
      } catch (e) {
        error = e;
      }
      expect(isPerfConfigError(error)).toBe(true);
      expect((error as PerfConfigError).field).toBe('id');
    }
    expect(() => withCorrelation('ok', 'nope' as never)).toThrow(/fn must be a function/);
    for (const good of [
      'a',
      'x'.repeat(128),
      '0a1b-2c3d',
      'Root=1-5f84c7a5-3b1b;x'.replace(';', ''),
      'req_1.2:3/4+5=@',
    ]) {
      expect(isValidCorrelationId(good)).toBe(true);
    }
  });
});

let receiver: OtlpReceiver;
let handle: TracingHandle;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  handle = setupTracing({ serviceName: 'corr', endpoint: receiver.url, batch: { scheduledDelayMs: 20 } });
});
afterAll(async () => {
  await handle.shutdown();
  await receiver.close();
});

type Body = { id: string; traceId?: string };

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('correlationMiddleware() for node:http / Express-style stacks', () => {
  it('takes a valid incoming id, replaces a bad one, sets the response header and the span attribute', async () => {
    const correlate = correlationMiddleware();
    const server = http.createServer((req, res) =>
      correlate(req, res, () => {
        setTimeout(() => {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({ id: correlationId(), traceId: trace.getActiveSpan()?.spanContext().traceId }),
          );
        }, 2);
      }),
    );
    const base = await listen(server);
    try {
      const r1 = await fetch(`${base}/a`, { headers: { 'x-correlation-id': 'client-id-1' } });
      expect(r1.headers.get('x-correlation-id')).toBe('client-id-1');
      expect(((await r1.json()) as Body).id).toBe('client-id-1');

      const r2 = await fetch(`${base}/b`, { headers: { 'x-request-id': 'req-from-lb' } });
      expect(((await r2.json()) as Body).id).toBe('req-from-lb');

      const r3 = await fetch(`${base}/c`, { headers: { 'x-correlation-id': 'bad id with spaces' } });
      const id3 = ((await r3.json()) as Body).id;
      expect(id3).toMatch(/^[0-9a-f-]{36}$/);
      expect(r3.headers.get('x-correlation-id')).toBe(id3);

      const r4 = await fetch(`${base}/d`, { headers: { 'x-correlation-id': 'x'.repeat(500) } });
      expect(((await r4.json()) as Body).id).toMatch(/^[0-9a-f-]{36}$/);

      const spans = await receiver.waitFor((s) => s.filter((x) => x.scope === '@perf/tracing').length >= 4);
      const a = spans.find((s) => s.attributes['url.path'] === '/a')!;
      expect(a.attributes['perf.correlation_id']).toBe('client-id-1');
      expect(a.kind).toBe(2);
      expect(a.attributes['http.response.status_code']).toBe(200);
      expect(spans.find((s) => s.attributes['url.path'] === '/c')!.attributes['perf.correlation_id']).toBe(
        id3,
      );
    } finally {
      server.close();
    }
  });

  it('options: trustIncoming false, custom headers, no response header; validated', async () => {
    const correlate = correlationMiddleware({
      trustIncoming: false,
      responseHeader: false,
      generate: () => 'gen-1',
    });
    const server = http.createServer((req, res) => correlate(req, res, () => res.end(correlationId())));
    const base = await listen(server);
    try {
      const r = await fetch(base, { headers: { 'x-correlation-id': 'client' } });
      expect(await r.text()).toBe('gen-1');
      expect(r.headers.get('x-correlation-id')).toBeNull();
    } finally {
      server.close();
    }
    // serverSpan: false: the id is kept, but no span is started when none is active.
    const before = receiver.spans.length;
    const noSpan = correlationMiddleware({ serverSpan: false });
    const server2 = http.createServer((req, res) =>
      noSpan(req, res, () => res.end(String(trace.getActiveSpan() === undefined))),
    );
    const base2 = await listen(server2);
    try {
      expect(await (await fetch(`${base2}/no-span`)).text()).toBe('true');
      await handle.forceFlush();
      expect(receiver.spans.slice(before).filter((s) => s.attributes['url.path'] === '/no-span')).toEqual([]);
    } finally {
      server2.close();
    }
    expect(() => correlationMiddleware({ headers: ['bad header'] })).toThrow(/headers\[0\]/);
    expect(() => correlationMiddleware({ responseHeader: 7 as never })).toThrow(/responseHeader/);
    expect(() => correlationMiddleware({ trustIncomng: true } as never)).toThrow(/trustIncomng/);
  });

  it('a client that goes away before the reply: the span ends once, as an error; 5xx is an error', async () => {
    const correlate = correlationMiddleware();
    const server = http.createServer((req, res) =>
      correlate(req, res, () => {
        if (req.url === '/fail') {
          res.statusCode = 503;
          res.end('down');
          return;
        }
        setTimeout(() => res.end('late'), 300);
      }),
    );
    const base = await listen(server);
    try {
      await expect(
        fetch(`${base}/slow`, {
          headers: { 'x-correlation-id': 'mw-abort-1' },
          signal: AbortSignal.timeout(50),
        }),
      ).rejects.toThrow();
      expect((await fetch(`${base}/fail`, { headers: { 'x-correlation-id': 'mw-fail-1' } })).status).toBe(
        503,
      );
      const spans = await receiver.waitFor((s) =>
        ['mw-abort-1', 'mw-fail-1'].every((id) => s.some((x) => x.attributes['perf.correlation_id'] === id)),
      );
      // Let the late `res.end` run too: it must not end (or export) the span a second time.
      await new Promise((r) => setTimeout(r, 400));
      await handle.forceFlush();
      const aborted = receiver.spans.filter((x) => x.attributes['perf.correlation_id'] === 'mw-abort-1');
      expect(aborted).toHaveLength(1);
      expect(aborted[0]!.status).toMatchObject({ code: 2, message: 'client aborted' });
      const failed = spans.find((x) => x.attributes['perf.correlation_id'] === 'mw-fail-1')!;
      expect(failed.status).toMatchObject({ code: 2, message: 'HTTP 503' });
      expect(failed.attributes['http.response.status_code']).toBe(503);
    } finally {
      server.close();
    }
  });
});

describe('correlationMiddleware() in Express 5', () => {
  it('works as app.use middleware; the span is named by the matched route', async () => {
    const app = express();
    app.use(correlationMiddleware());
    app.get('/rooms/:id', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 2));
      res.json({ id: correlationId() });
    });
    const server = http.createServer(app);
    const base = await listen(server);
    try {
      const r = await fetch(`${base}/rooms/9`, { headers: { 'x-request-id': 'express-1' } });
      expect(((await r.json()) as Body).id).toBe('express-1');
      expect(r.headers.get('x-correlation-id')).toBe('express-1');
      const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'GET /rooms/:id'));
      expect(spans.find((x) => x.name === 'GET /rooms/:id')!.attributes).toMatchObject({
        'http.route': '/rooms/:id',
        'perf.correlation_id': 'express-1',
        'url.path': '/rooms/9',
      });
    } finally {
      server.close();
    }
  });
});

describe('correlationPlugin for Fastify 5', () => {
  it('keeps the id for the whole request, sets the header, names the span by route', async () => {
    const app = Fastify();
    await app.register(correlationPlugin);
    app.get('/users/:id', async () => {
      await new Promise((r) => setTimeout(r, 2));
      return { id: correlationId(), mixin: logCorrelation() };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const r = await fetch(`${base}/users/7`, { headers: { 'x-correlation-id': 'fastify-1' } });
      const body = (await r.json()) as Body & { mixin: Record<string, string> };
      expect(r.headers.get('x-correlation-id')).toBe('fastify-1');
      expect(body.id).toBe('fastify-1');
      expect(body.mixin.trace_id).toMatch(/^[0-9a-f]{32}$/);
      const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'GET /users/:id'));
      const span = spans.find((x) => x.name === 'GET /users/:id')!;
      expect(span.attributes).toMatchObject({
        'perf.correlation_id': 'fastify-1',
        'http.route': '/users/:id',
        'http.response.status_code': 200,
      });
      expect(span.traceId).toBe(body.mixin.trace_id);

      const bad = await fetch(`${base}/users/8`, { headers: { 'x-correlation-id': '"quoted"' } });
      expect(((await bad.json()) as Body).id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await app.close();
    }
  });

  it('a client that aborts still gets its span ended, as an error', async () => {
    const app = Fastify();
    await app.register(correlationPlugin);
    app.get('/slow', async () => {
      await new Promise((r) => setTimeout(r, 300));
      return 'late';
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expect(
        fetch(`${base}/slow`, {
          headers: { 'x-correlation-id': 'aborting-1' },
          signal: AbortSignal.timeout(50),
        }),
      ).rejects.toThrow();
      const spans = await receiver.waitFor((s) =>
        s.some((x) => x.attributes['perf.correlation_id'] === 'aborting-1'),
      );
      const span = spans.find((x) => x.attributes['perf.correlation_id'] === 'aborting-1')!;
      expect(span.name).toBe('GET /slow');
      expect(span.status).toMatchObject({ code: 2, message: 'client aborted' });
    } finally {
      await app.close();
    }
  });

  it('a bad option fails register with the typed error', async () => {
    const app = Fastify();
    await expect(app.register(correlationPlugin, { headers: [''] } as never).ready()).rejects.toThrow(
      /headers\[0\]/,
    );
    await app.close();
  });
});

describe('log correlation (pino mixin)', () => {
  it('puts correlation id, trace id and span id in every line', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { mixin: pinoMixin() },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(JSON.parse(String(chunk)));
          cb();
        },
      }),
    );
    logger.info('outside');
    await withCorrelation('log-1', () =>
      trace.getTracer('t').startActiveSpan('logged', async (span) => {
        await new Promise((r) => setTimeout(r, 1));
        logger.info('inside');
        span.end();
      }),
    );
    expect(lines[0]).not.toHaveProperty('correlation_id');
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ msg: 'inside', correlation_id: 'log-1', trace_flags: '01' });
    expect(lines[1]!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[1]!.span_id).toMatch(/^[0-9a-f]{16}$/);
  });
});
