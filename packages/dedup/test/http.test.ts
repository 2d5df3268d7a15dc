import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { channels, isPerfConfigError } from '@perf/core';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Deduplicator, dedupMiddleware, fastifyDedup } from '../src/index.js';
import { type Deferred, deferred } from './helpers.js';

const servers: Server[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Reply {
  status: number;
  statusText: string;
  body: string;
  headers: Record<string, string>;
}

async function get(url: string, headers?: Record<string, string>, method = 'GET'): Promise<Reply> {
  const res = await fetch(url, { headers, method });
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    out[k] = v;
  });
  return { status: res.status, statusText: res.statusText, body: await res.text(), headers: out };
}

/** Sends `n` requests at once; releases the handler once `followers` have joined. */
async function burst(
  dedup: Deduplicator,
  gate: { resolve: (v: undefined) => void },
  requests: Array<() => Promise<Reply>>,
  expectedFollowers: number,
): Promise<Reply[]> {
  const before = dedup.stats().followers;
  const pending = requests.map((r) => r());
  await waitFor(() => dedup.stats().followers - before >= expectedFollowers, 'followers to join');
  gate.resolve(undefined);
  return Promise.all(pending);
}

describe('dedupMiddleware (Express)', () => {
  async function expressApp(
    respond: (res: express.Response, n: number) => void,
  ): Promise<{ url: string; dedup: Deduplicator; calls: () => number; gate: Deferred<undefined> }> {
    const dedup = new Deduplicator({ name: 'express-test' });
    const gate = deferred<undefined>();
    let calls = 0;
    const app = express();
    app.use(dedupMiddleware({ deduplicator: dedup }));
    app.all('/data', async (_req, res) => {
      const n = ++calls;
      await gate.promise;
      respond(res, n);
    });
    app.get('/fail', async (_req, _res, next) => {
      calls++;
      await gate.promise;
      next(new Error('handler failed'));
    });
    const url = await listen(app);
    return { url, dedup, calls: () => calls, gate };
  }

  it('runs the handler once for identical concurrent GETs; joiners get the same status, headers and body', async () => {
    const { url, dedup, calls, gate } = await expressApp((res, n) => {
      res.status(203).set('x-run', String(n)).type('application/json').send({ run: n, text: 'héllo' });
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 5 }, () => () => get(`${url}/data?a=1&b=2`)),
      4,
    );
    expect(calls()).toBe(1);
    for (const r of replies) {
      expect(r.status).toBe(203);
      expect(r.headers['x-run']).toBe('1');
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(r.body)).toEqual({ run: 1, text: 'héllo' });
    }
    expect(dedup.stats()).toMatchObject({ leaders: 1, followers: 4, inFlight: 0 });
  });

  it('never coalesces two users (Authorization differs)', async () => {
    const { url, calls, gate } = await expressApp((res, n) => {
      res.send(`run ${n}`);
    });
    const pending = [
      get(`${url}/data`, { authorization: 'Bearer alice' }),
      get(`${url}/data`, { authorization: 'Bearer bob' }),
    ];
    await waitFor(() => calls() === 2, 'both handlers to run');
    gate.resolve(undefined);
    const bodies = (await Promise.all(pending)).map((r) => r.body).sort();
    expect(bodies).toEqual(['run 1', 'run 2']);
  });

  it.each([
    ['Set-Cookie', (res: express.Response) => res.cookie('sid', 'secret')],
    ['Cache-Control: private', (res: express.Response) => res.set('cache-control', 'private, max-age=60')],
    ['Vary beyond the key', (res: express.Response) => res.set('vary', 'X-Tenant')],
    ['Vary: *', (res: express.Response) => res.set('vary', '*')],
  ])('does not share a response with %s: joiners run the handler themselves', async (_label, mark) => {
    const { url, dedup, calls, gate } = await expressApp((res, n) => {
      mark(res);
      res.send(`run ${n}`);
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/data`)),
      2,
    );
    expect(calls()).toBe(3);
    expect(replies.map((r) => r.body).sort()).toEqual(['run 1', 'run 2', 'run 3']);
  });

  it('releases joiners as soon as the leading response shows it is per-user, not when it ends', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<undefined>();
    const leaderEnd = deferred<undefined>();
    let calls = 0;
    const app = express();
    app.use(dedupMiddleware({ deduplicator: dedup }));
    app.get('/me', async (_req, res) => {
      const n = ++calls;
      await gate.promise;
      if (n === 1) {
        res.setHeader('set-cookie', 'sid=1');
        res.write('leader ');
        await leaderEnd.promise; // the leader keeps streaming
        res.end('done');
      } else {
        res.send(`run ${n}`);
      }
    });
    const url = await listen(app);
    const before = dedup.stats().followers;
    const leader = get(`${url}/me`);
    await waitFor(() => calls === 1, 'the leader');
    const joiners = [get(`${url}/me`), get(`${url}/me`)];
    await waitFor(() => dedup.stats().followers - before >= 2, 'joiners');
    gate.resolve(undefined);
    // The joiners finish while the leader is still writing.
    expect((await Promise.all(joiners)).map((r) => r.body).sort()).toEqual(['run 2', 'run 3']);
    leaderEnd.resolve(undefined);
    expect((await leader).body).toBe('leader done');
  });

  it('shares a response that varies only on headers the key covers', async () => {
    const { url, dedup, calls, gate } = await expressApp((res, n) => {
      res.set('vary', 'Accept-Encoding, Accept').send(`run ${n}`);
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/data`)),
      2,
    );
    expect(calls()).toBe(1);
    expect(replies.map((r) => r.body)).toEqual(['run 1', 'run 1', 'run 1']);
  });

  it('does not share responses larger than maxResponseBytes', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<undefined>();
    let calls = 0;
    const app = express();
    app.use(dedupMiddleware({ deduplicator: dedup, maxResponseBytes: 100 }));
    app.get('/big', async (_req, res) => {
      calls++;
      await gate.promise;
      res.send('x'.repeat(500));
    });
    const url = await listen(app);
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/big`)),
      2,
    );
    expect(calls).toBe(3);
    for (const r of replies) expect(r.body).toHaveLength(500);
  });

  it('gives joiners the same error response when the handler fails', async () => {
    const { url, dedup, calls, gate } = await expressApp(() => {});
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/fail`)),
      2,
    );
    expect(calls()).toBe(1);
    for (const r of replies) expect(r.status).toBe(500);
  });

  it('lets joiners run the handler themselves when the leading request dies before responding', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<undefined>();
    let calls = 0;
    const app = express();
    app.use(dedupMiddleware({ deduplicator: dedup }));
    app.get('/flaky', async (_req, res) => {
      const n = ++calls;
      await gate.promise;
      if (n === 1)
        res.destroy(); // the leader's connection dies mid-way
      else res.send(`run ${n}`);
    });
    const url = await listen(app);
    const before = dedup.stats().followers;
    const leader = get(`${url}/flaky`).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(() => calls === 1, 'the leader');
    const joiners = [get(`${url}/flaky`), get(`${url}/flaky`)];
    await waitFor(() => dedup.stats().followers - before >= 2, 'joiners');
    gate.resolve(undefined);
    expect(await leader).toBe('failed');
    expect((await Promise.all(joiners)).map((r) => r.body).sort()).toEqual(['run 2', 'run 3']);
  });

  it('coalesces conditional requests only with identical conditions', async () => {
    const { url, calls, gate } = await expressApp((res, n) => {
      res.send(`run ${n}`);
    });
    const pending = [
      get(`${url}/data`, { 'if-none-match': '"a"' }),
      get(`${url}/data`, { 'if-none-match': '"b"' }),
    ];
    await waitFor(() => calls() === 2, 'two leaders');
    gate.resolve(undefined);
    expect((await Promise.all(pending)).map((r) => r.body).sort()).toEqual(['run 1', 'run 2']);
  });

  it("bounds a joiner's wait with waitTimeoutMs; then it runs the handler itself", async () => {
    const dedup = new Deduplicator();
    const gate = deferred<undefined>();
    let calls = 0;
    const app = express();
    app.use(dedupMiddleware({ deduplicator: dedup, waitTimeoutMs: 50 }));
    app.get('/slow', async (_req, res) => {
      const n = ++calls;
      if (n === 1) await gate.promise;
      res.send(`run ${n}`);
    });
    const url = await listen(app);
    const leader = get(`${url}/slow`);
    await waitFor(() => calls === 1, 'the leader');
    const joiner = await get(`${url}/slow`);
    expect(joiner.body).toBe('run 2');
    expect(dedup.stats().timeouts).toBe(1);
    gate.resolve(undefined);
    expect((await leader).body).toBe('run 1');
  });

  it('keys a listed method with a body by the parsed body, and never coalesces an unread one', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<undefined>();
    let calls = 0;
    const app = express();
    app.use(express.json());
    app.use(dedupMiddleware({ deduplicator: dedup, methods: ['PUT'], key: { allowUnsafeMethods: true } }));
    app.put('/doc', async (req, res) => {
      const n = ++calls;
      await gate.promise;
      res.send(`run ${n}: ${JSON.stringify(req.body)}`);
    });
    const url = await listen(app);
    const put = (body: unknown) =>
      fetch(`${url}/doc`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.text());
    const before = dedup.stats().followers;
    const pending = [put({ a: 1, b: 2 }), put({ b: 2, a: 1 }), put({ a: 2 })];
    await waitFor(() => calls === 2 && dedup.stats().followers - before === 1, 'two leaders, one joiner');
    gate.resolve(undefined);
    const bodies = await Promise.all(pending);
    expect(bodies[0]).toBe(bodies[1]); // same JSON body, key order aside: one run
    expect(bodies[2]).toMatch(/"a":2/);
    expect(calls).toBe(2);

    // Without a body parser in front, a PUT body is unread: no key, so each runs.
    const raw = dedupMiddleware({ methods: ['PUT'], key: { allowUnsafeMethods: true } });
    let rawCalls = 0;
    const rawUrl = await listen((req, res) =>
      raw(req, res, () => {
        rawCalls++;
        req.resume();
        req.on('end', () => res.end('ok'));
      }),
    );
    await Promise.all([1, 2].map(() => fetch(rawUrl, { method: 'PUT', body: 'x' }).then((r) => r.text())));
    expect(rawCalls).toBe(2);
    expect(raw.deduplicator.stats().total).toBe(0);
  });

  it('passes POST (not listed) straight through', async () => {
    const { url, calls, gate } = await expressApp((res, n) => {
      res.send(`run ${n}`);
    });
    const pending = [get(`${url}/data`, {}, 'POST'), get(`${url}/data`, {}, 'POST')];
    await waitFor(() => calls() === 2, 'both POST handlers');
    gate.resolve(undefined);
    expect((await Promise.all(pending)).map((r) => r.body).sort()).toEqual(['run 1', 'run 2']);
  });

  it('runs a request it cannot key as usual, and says so on perf:dedup:bypass', async () => {
    const events: unknown[] = [];
    const onBypass = (e: unknown) => events.push(e);
    channels.dedup.bypass.subscribe(onBypass);
    try {
      const dedup = new Deduplicator({ name: 'unkeyable' });
      const app = express();
      app.use(
        dedupMiddleware({
          deduplicator: dedup,
          identity: () => {
            throw new Error('no session store');
          },
        }),
      );
      app.get('/x', (_req, res) => {
        res.send('ran');
      });
      const url = await listen(app);
      expect((await get(`${url}/x`)).body).toBe('ran');
      expect(events).toEqual([{ name: 'unkeyable', key: 'GET /x', reason: 'not-deduplicable' }]);
      expect(dedup.stats().total).toBe(0);
    } finally {
      channels.dedup.bypass.unsubscribe(onBypass);
    }
  });

  it('refuses bad options naming the field', () => {
    for (const [options, field] of [
      [{ methods: 'GET' }, 'methods'],
      [{ deduplicator: {} }, 'deduplicator'],
      [{ maxResponseBytes: -1 }, 'maxResponseBytes'],
      [{ key: { headers: 5 } }, 'headers'],
      [{ nope: 1 }, 'nope'],
    ] as const) {
      let caught: unknown;
      try {
        dedupMiddleware(options as never);
      } catch (error) {
        caught = error;
      }
      expect(isPerfConfigError(caught)).toBe(true);
      expect((caught as { field: string }).field).toBe(field);
    }
  });
});

describe('dedupMiddleware (plain node:http)', () => {
  it('works with (req, res, next) around a node:http handler, HEAD included', async () => {
    const gate = deferred<undefined>();
    let calls = 0;
    const mw = dedupMiddleware();
    const url = await listen((req, res) =>
      mw(req, res, async () => {
        calls++;
        await gate.promise;
        res.setHeader('content-type', 'text/plain');
        res.end('plain');
      }),
    );
    const replies = await burst(
      mw.deduplicator,
      gate,
      [
        () => get(`${url}/x`),
        () => get(`${url}/x`),
        () => get(`${url}/x`, {}, 'HEAD'),
        () => get(`${url}/x`, {}, 'HEAD'),
      ],
      2,
    );
    expect(calls).toBe(2); // one GET leader, one HEAD leader
    expect(replies.map((r) => r.body)).toEqual(['plain', 'plain', '', '']);
    expect(replies[3]?.headers['content-type']).toBe('text/plain');
    await mw.deduplicator.close();
  });
});

describe('dedupMiddleware around a throwing node:http handler', () => {
  it("lets the leader's synchronous throw reach its caller, as without the middleware", async () => {
    const mw = dedupMiddleware();
    const req = { method: 'GET', url: '/t', headers: {} } as unknown as IncomingMessage;
    const res = new ServerResponse(req);
    const boom = new Error('handler bug');
    expect(() =>
      mw(req, res, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(mw.deduplicator.stats().inFlight).toBe(1); // until the response ends or closes
    res.emit('close'); // the connection goes: the key is freed (joiners would run the handler themselves)
    await waitFor(() => mw.deduplicator.stats().inFlight === 0, 'the key to be freed');
  });
});

describe('dedupMiddleware with headers given to writeHead()', () => {
  it.each([
    ['an object', { 'Content-Type': 'text/x-test', 'X-Run': '1' }],
    ['a flat array', ['Content-Type', 'text/x-test', 'X-Run', '1']],
    [
      'pairs',
      [
        ['Content-Type', 'text/x-test'],
        ['X-Run', '1'],
      ],
    ],
  ])('replays headers passed as %s', async (_label, headers) => {
    const gate = deferred<undefined>();
    let calls = 0;
    const mw = dedupMiddleware();
    const url = await listen((req, res) =>
      mw(req, res, async () => {
        calls++;
        await gate.promise;
        res.writeHead(200, 'Fine', headers as never);
        res.end('body');
      }),
    );
    const replies = await burst(
      mw.deduplicator,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/h`)),
      2,
    );
    expect(calls).toBe(1);
    for (const r of replies) {
      expect(r.headers['content-type']).toBe('text/x-test');
      expect(r.headers['x-run']).toBe('1');
      expect(r.statusText).toBe('Fine');
      expect(r.body).toBe('body');
    }
  });

  it('does not share a Set-Cookie given to writeHead()', async () => {
    const gate = deferred<undefined>();
    let calls = 0;
    const mw = dedupMiddleware();
    const url = await listen((req, res) =>
      mw(req, res, async () => {
        const n = ++calls;
        await gate.promise;
        res.writeHead(200, { 'Set-Cookie': 'sid=1' });
        res.end(`run ${n}`);
      }),
    );
    const replies = await burst(
      mw.deduplicator,
      gate,
      Array.from({ length: 2 }, () => () => get(`${url}/c`)),
      1,
    );
    expect(calls).toBe(2);
    expect(replies.map((r) => r.body).sort()).toEqual(['run 1', 'run 2']);
  });
});

describe('fastifyDedup (Fastify plugin)', () => {
  async function fastifyApp(respond: (reply: import('fastify').FastifyReply, n: number) => unknown) {
    const dedup = new Deduplicator({ name: 'fastify-test' });
    const gate = deferred<undefined>();
    let calls = 0;
    const app = Fastify();
    apps.push(app);
    await app.register(fastifyDedup, { deduplicator: dedup });
    app.get('/data', async (_request, reply) => {
      const n = ++calls;
      await gate.promise;
      return respond(reply, n);
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, dedup, gate, calls: () => calls };
  }

  it('runs the handler once for identical concurrent GETs; joiners get the same reply', async () => {
    const { url, dedup, gate, calls } = await fastifyApp((reply, n) => {
      reply.code(201).header('x-run', String(n));
      return { run: n };
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 4 }, () => () => get(`${url}/data?q=1`)),
      3,
    );
    expect(calls()).toBe(1);
    for (const r of replies) {
      expect(r.status).toBe(201);
      expect(r.headers['x-run']).toBe('1');
      expect(JSON.parse(r.body)).toEqual({ run: 1 });
    }
  });

  it('does not share a reply that sets a cookie', async () => {
    const { url, dedup, gate, calls } = await fastifyApp((reply, n) => {
      reply.header('set-cookie', 'sid=1');
      return `run ${n}`;
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/data`)),
      2,
    );
    expect(calls()).toBe(3);
    expect(replies.map((r) => r.body).sort()).toEqual(['run 1', 'run 2', 'run 3']);
  });

  it('gives joiners the same error reply when the handler throws', async () => {
    const { url, dedup, gate, calls } = await fastifyApp(() => {
      throw new Error('handler failed');
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 3 }, () => () => get(`${url}/data`)),
      2,
    );
    expect(calls()).toBe(1);
    for (const r of replies) {
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body)).toMatchObject({ message: 'handler failed' });
    }
  });

  it('does not share a streamed reply', async () => {
    const { url, dedup, gate, calls } = await fastifyApp((reply, n) => {
      reply.type('text/plain');
      return Readable.from([`run ${n}`]);
    });
    const replies = await burst(
      dedup,
      gate,
      Array.from({ length: 2 }, () => () => get(`${url}/data`)),
      1,
    );
    expect(calls()).toBe(2);
    expect(replies.map((r) => r.body).sort()).toEqual(['run 1', 'run 2']);
  });

  it('keys a listed method with a body by its parsed body', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<undefined>();
    let calls = 0;
    const app = Fastify();
    apps.push(app);
    await app.register(fastifyDedup, {
      deduplicator: dedup,
      methods: ['PUT'],
      key: { allowUnsafeMethods: true },
    });
    app.put('/doc', async (request) => {
      const n = ++calls;
      await gate.promise;
      return { run: n, body: request.body };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const put = (body: unknown) =>
      fetch(`${url}/doc`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ run: number }>);
    const before = dedup.stats().followers;
    const pending = [put({ a: 1, b: 2 }), put({ b: 2, a: 1 }), put({ a: 2 })];
    await waitFor(() => calls === 2 && dedup.stats().followers - before === 1, 'two leaders, one joiner');
    gate.resolve(undefined);
    const [first, second, third] = await Promise.all(pending);
    expect(first?.run).toBe(second?.run);
    expect(third?.run).not.toBe(first?.run);
    expect(calls).toBe(2);
  });

  it('reports bad options through register', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(fastifyDedup, { methods: 7 } as never)).rejects.toSatisfy(isPerfConfigError);
  });
});
