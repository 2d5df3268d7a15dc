import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPerfConfigError } from '@perf/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlertNotification, webhookNotifier } from '../src/index.js';
import { eventually } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const bodies: unknown[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      answer(++n, req, res);
    });
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, count: () => n };
}

const note = (name: string, status: 'firing' | 'resolved' = 'firing'): AlertNotification => ({
  status,
  alert: {
    name,
    state: status,
    labels: { alertname: name },
    annotations: {},
    value: 1,
    activeAt: 0,
    firedAt: 1000,
  },
});

describe('webhookNotifier', () => {
  it('POSTs Alertmanager-shaped JSON and retries 5xx and 429 with backoff until it succeeds', async () => {
    const r = await receiver((n, req, res) => {
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['x-team']).toBe('core');
      res.writeHead(n === 1 ? 503 : n === 2 ? 429 : 200).end();
    });
    const hook = webhookNotifier({ url: r.url, backoffMs: 20, retries: 3, headers: { 'x-team': 'core' } });
    cleanups.push(() => hook.close());
    hook.notify(note('A'));
    await hook.idle();
    expect(r.count()).toBe(3);
    expect(hook.stats()).toMatchObject({ sent: 1, failed: 0, retries: 2, dropped: 0, queued: 0 });
    expect(r.bodies[2]).toMatchObject({
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'A' }, startsAt: new Date(1000).toISOString() }],
    });
  });

  it('gives up after the retries, and at once on a 4xx that is not 429', async () => {
    const r = await receiver((_n, req, res) => {
      res.writeHead(req.url === '/hook' ? 500 : 400).end();
    });
    const hook = webhookNotifier({ url: r.url, backoffMs: 5, retries: 2 });
    cleanups.push(() => hook.close());
    hook.notify(note('A'));
    await hook.idle();
    expect(r.count()).toBe(3);
    expect(hook.stats()).toMatchObject({ sent: 0, failed: 1, retries: 2 });
    const bad = webhookNotifier({ url: r.url.replace('/hook', '/bad'), backoffMs: 5, retries: 2 });
    cleanups.push(() => bad.close());
    bad.notify(note('B'));
    await bad.idle();
    expect(r.count()).toBe(4);
    expect(bad.stats()).toMatchObject({ failed: 1, retries: 0 });
  });

  it('retries a refused connection and a timed-out request', async () => {
    let calls = 0;
    const hook = webhookNotifier({
      url: 'http://127.0.0.1:9/unused',
      backoffMs: 5,
      retries: 2,
      timeoutMs: 50,
      fetch: ((_url: string, init: RequestInit) => {
        calls++;
        if (calls === 1) return Promise.reject(new TypeError('fetch failed'));
        if (calls === 2) {
          return new Promise((_resolve, reject) => {
            init.signal?.addEventListener('abort', () => reject(new Error('aborted')));
          });
        }
        return Promise.resolve(new Response(null, { status: 204 }));
      }) as typeof fetch,
    });
    cleanups.push(() => hook.close());
    hook.notify(note('A'));
    await hook.idle();
    expect(calls).toBe(3);
    expect(hook.stats()).toMatchObject({ sent: 1, retries: 2 });
  });

  it('keeps a bounded queue, dropping the oldest waiting notification', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: string[] = [];
    const hook = webhookNotifier({
      url: 'http://127.0.0.1:9/unused',
      maxQueue: 3,
      fetch: (async (_url: string, init: RequestInit) => {
        seen.push(JSON.parse(String(init.body)).alerts[0].labels.alertname);
        await gate;
        return new Response(null, { status: 200 });
      }) as typeof fetch,
    });
    cleanups.push(() => hook.close());
    for (const name of ['a', 'b', 'c', 'd', 'e']) hook.notify(note(name));
    expect(hook.stats()).toMatchObject({ queued: 3, dropped: 2 });
    release();
    await hook.idle();
    expect(seen).toEqual(['a', 'd', 'e']);
    expect(hook.stats()).toMatchObject({ sent: 3, dropped: 2, queued: 0 });
  });

  it('close() aborts the request in flight, cancels the backoff timer and refuses new work', async () => {
    let aborted = false;
    const hook = webhookNotifier({
      url: 'http://127.0.0.1:9/unused',
      fetch: ((_url: string, init: RequestInit) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        })) as typeof fetch,
    });
    hook.notify(note('a'));
    hook.notify(note('b'));
    hook.close();
    await eventually(() => aborted, 2000);
    await hook.idle();
    hook.notify(note('c'));
    expect(hook.stats()).toMatchObject({ queued: 0, sent: 0 });
  });

  it('validates its options', () => {
    for (const [options, field] of [
      [{ url: 'ftp://x' }, 'url'],
      [{ url: 'http://x', retries: -1 }, 'retries'],
      [{ url: 'http://x', maxQueue: 0 }, 'maxQueue'],
      [{ url: 'http://x', timeoutMs: 0 }, 'timeoutMs'],
      [{ url: 'http://x', nope: 1 }, 'nope'],
    ] as const) {
      let error: unknown;
      try {
        webhookNotifier(options as never);
      } catch (e) {
        error = e;
      }
      expect(isPerfConfigError(error)).toBe(true);
      expect((error as { field: string }).field).toBe(field);
    }
  });
});
