/**
 * What `correlationPlugin` costs on a real Fastify server with no OpenTelemetry SDK registered,
 * side by side in one process: bare Fastify, Fastify + correlationPlugin, and Fastify + the
 * least a correlation hook can do (read/make an id, set the response header, one
 * AsyncLocalStorage scope). One request at a time over keep-alive, rounds alternating A B C A B C;
 * median round p50. Then the plugin's onRequest hook alone, called directly (ns per request).
 * Target: the plugin within ~1-2 µs of the hand-written hook.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { compare } from '../../../tooling/bench.js';
import { correlationId, correlationPlugin } from '../src/index.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BODY = JSON.stringify({ ok: true, items: [1, 2, 3] });

const als = new AsyncLocalStorage<string>();
type Hook = (
  req: { headers: Record<string, unknown> },
  reply: { header(n: string, v: string): unknown },
  done: () => void,
) => void;
// The floor: a valid incoming id or a UUID, the response header, one ALS scope.
const minimalHook: Hook = (req, reply, done) => {
  const incoming = req.headers['x-correlation-id'];
  const id =
    typeof incoming === 'string' && incoming.length > 0 && incoming.length <= 128 ? incoming : randomUUID();
  reply.header('x-correlation-id', id);
  als.run(id, done);
};

const servers: Array<{ close(): Promise<unknown> }> = [];
async function server(kind: 'bare' | 'plugin' | 'minimal'): Promise<string> {
  const app = Fastify({ logger: false });
  if (kind === 'plugin') await app.register(correlationPlugin);
  if (kind === 'minimal') app.addHook('onRequest', minimalHook as never);
  app.get('/r', async (_request, reply) => {
    // Touch the store the way a handler's logger would, so the scope is really used.
    if (kind === 'plugin') correlationId();
    if (kind === 'minimal') als.getStore();
    return reply.type('application/json; charset=utf-8').send(BODY);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}/r`;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(performance.now() - started)
          : reject(new Error(`${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const contenders = [
  ['bare Fastify', await server('bare')],
  ['+ correlationPlugin (no SDK)', await server('plugin')],
  ['+ minimal ALS + header hook', await server('minimal')],
] as const;

async function httpSection(title: string, headers: Record<string, string>): Promise<void> {
  const p50s = new Map<string, number[]>();
  for (let r = 0; r <= ROUNDS; r++) {
    for (const [name, url] of contenders) {
      const samples: number[] = [];
      for (let i = 0; i < REQUESTS; i++) samples.push(await get(url, headers));
      samples.sort((a, b) => a - b);
      if (r > 0) p50s.set(name, [...(p50s.get(name) ?? []), samples[Math.floor(samples.length / 2)]!]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const bare = median(p50s.get(contenders[0][0])!);
  const minimal = median(p50s.get(contenders[2][0])!);
  console.log(`\n${title}: 1 request at a time, ${REQUESTS} requests per round, median of ${ROUNDS} rounds`);
  console.table(
    contenders.map(([name]) => {
      const p50 = median(p50s.get(name)!);
      return {
        contender: name,
        'p50 µs': (p50 * 1000).toFixed(1),
        'vs bare': `${(p50 / bare).toFixed(3)}x`,
        'added µs': ((p50 - bare) * 1000).toFixed(1),
        'vs minimal': `${(p50 / minimal).toFixed(3)}x`,
      };
    }),
  );
}

await httpSection('HTTP, no incoming id (one is generated)', {});
await httpSection('HTTP, valid incoming x-correlation-id', { 'x-correlation-id': 'req-7f3a9c2e-bench' });
agent.destroy();
await Promise.all(servers.map((s) => s.close()));

// The onRequest hook alone: the plugin registered on a recording stub, its hook called directly.
const hooks: Record<string, Hook> = {};
correlationPlugin(
  {
    addHook: (name: string, fn: Hook) => {
      hooks[name] = fn;
    },
  } as never,
  {},
  (e?: Error) => {
    if (e) throw e;
  },
);
const reply = { header: (_n: string, _v: string) => reply, statusCode: 200, raw: { writableFinished: true } };
const noop = () => {};
const fresh = () => ({ method: 'GET', url: '/r', headers: {} as Record<string, unknown> });
const withId = () => ({
  method: 'GET',
  url: '/r',
  headers: { 'x-correlation-id': 'req-7f3a9c2e-bench' } as Record<string, unknown>,
});
for (const [title, make] of [
  ['onRequest hook alone, no incoming id', fresh],
  ['onRequest hook alone, valid incoming id', withId],
] as const) {
  await compare(
    title,
    [
      { name: 'minimal ALS + header hook', fn: () => minimalHook(make(), reply, noop) },
      {
        // Every hook the plugin registered (before this change: onRequest, onResponse, onRequestAbort).
        name: 'correlationPlugin hooks',
        fn: () => {
          const req = make();
          hooks.onRequest!(req, reply, noop);
          (hooks.onResponse as unknown as ((r: unknown, p: unknown, d: () => void) => void) | undefined)?.(
            req,
            reply,
            noop,
          );
        },
      },
    ],
    { iterations: 50_000 },
  );
}
process.exit(0);
