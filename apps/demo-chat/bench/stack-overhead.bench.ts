/**
 * The full @perf stack's added latency on a cached history read: the demo (zod validation,
 * ownership check and history from @perf/cache, @perf/dedup, @perf/metrics RED plugin, correlation
 * ids and SERVER-span context from @perf/tracing, no SDK registered, as in `pnpm start`) vs a bare Fastify handler returning the same bytes. One request at a time over keep-alive,
 * same seeded conversation sequence, rounds alternating A B A B; median round p50/p99. Target: ≤ 15%
 * at p50. Request logging is off in both (it is not part of the stack being measured).
 */
import { correlationPlugin } from '@perf/tracing';
import Fastify from 'fastify';
import { CHAT_HISTORY, mulberry32, zipfSampler } from '../../../tooling/workloads.js';
import { startDemo } from '../src/demo-app.js';
import { HttpClient } from '../src/load/http-client.js';
import { summarize } from '../src/load/latency.js';
import { conversationParams, historyQuery, userHeaders, zodValidatorCompiler } from '../src/validation.js';
import { ownerOfConversation } from '../src/workload-plan.js';

const CONVERSATIONS = 200;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const demo = await startDemo({
  port: 0,
  logLevel: 'warn',
  seedConversations: CONVERSATIONS,
  requestLogging: false,
});
await demo.ready;
const client = new HttpClient(2);
const path = (id: number) => `/api/conversations/${id}/messages`;

// The bare handler serves exactly the bytes the demo answers for each conversation.
const bytes = new Map<number, string>();
for (let id = 1; id <= CONVERSATIONS; id++) {
  const r = await client.send('GET', `${demo.url}${path(id)}`, { 'x-user-id': ownerOfConversation(id) });
  bytes.set(id, r.body);
}
// Contenders between the two, to show where the added time goes: each adds one piece to bare Fastify.
async function fastifyWith(o: {
  logger?: boolean;
  validation?: boolean;
  service?: boolean;
  correlation?: boolean;
  red?: boolean;
}): Promise<string> {
  const app = Fastify({ logger: o.logger ? { level: 'warn' } : false });
  app.setValidatorCompiler(zodValidatorCompiler);
  if (o.correlation) await app.register(correlationPlugin);
  if (o.red) await app.register(demo.metrics.fastifyPlugin());
  const schema = o.validation
    ? { schema: { headers: userHeaders, params: conversationParams, querystring: historyQuery } }
    : {};
  app.get<{ Params: { id: string } }>('/api/conversations/:id/messages', schema, async (request, reply) => {
    const id = Number(request.params.id);
    const body = o.service
      ? await demo.service()!.messagesBody(ownerOfConversation(id), id, { limit: 50 })
      : bytes.get(id);
    return reply.type('application/json; charset=utf-8').send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}
const servers: Array<{ close(): Promise<unknown> }> = [];
const contenders = [
  ['bare Fastify, same bytes', await fastifyWith({})],
  ['+ pino logger', await fastifyWith({ logger: true })],
  ['+ zod validation', await fastifyWith({ validation: true })],
  ['+ chat service (dedup, 2 cache reads)', await fastifyWith({ service: true })],
  ['+ @perf/tracing correlationPlugin', await fastifyWith({ correlation: true })],
  ['+ @perf/metrics RED plugin', await fastifyWith({ red: true })],
  ['full @perf stack (demo)', demo.url],
] as const;

async function round(base: string, seed: number): Promise<number[]> {
  const next = zipfSampler(CONVERSATIONS, CHAT_HISTORY.zipfExponent, mulberry32(seed));
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const id = next() + 1;
    const r = await client.send('GET', `${base}${path(id)}`, { 'x-user-id': ownerOfConversation(id) });
    if (r.status !== 200 || r.body !== bytes.get(id))
      throw new Error(`${base}: unexpected answer ${r.status}`);
    samples.push(r.ms);
  }
  return samples;
}

const p50s = new Map<string, number[]>();
const p99s = new Map<string, number[]>();
for (let r = 0; r <= ROUNDS; r++) {
  for (const [name, base] of contenders) {
    const s = summarize(await round(base, 7 + r));
    if (r === 0) continue; // warm-up round
    p50s.set(name, [...(p50s.get(name) ?? []), s.p50!]);
    p99s.set(name, [...(p99s.get(name) ?? []), s.p99!]);
  }
}
client.close();
await Promise.all(servers.map((x) => x.close()));
await demo.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bareP50 = median(p50s.get(contenders[0][0])!);
console.log(
  `cached history read, 1 request at a time, ${REQUESTS} requests per round, median of ${ROUNDS} rounds`,
);
console.table(
  contenders.map(([name]) => ({
    contender: name,
    'p50 µs': (median(p50s.get(name)!) * 1000).toFixed(0),
    'p99 µs': (median(p99s.get(name)!) * 1000).toFixed(0),
    ratio: `${(median(p50s.get(name)!) / bareP50).toFixed(2)}x`,
  })),
);
const stackP50 = median(p50s.get('full @perf stack (demo)')!);
console.log(
  `added latency at p50: ${((stackP50 / bareP50 - 1) * 100).toFixed(1)}% = ${((stackP50 - bareP50) * 1000).toFixed(0)} µs (target ≤ 15%)`,
);
process.exit(0);
