/**
 * The full @perf stack's added latency on a cached history read: the demo (zod validation,
 * ownership check and history from @perf/cache, @perf/dedup, @perf/metrics RED plugin, correlation
 * ids) vs a bare Fastify handler returning the same bytes. One request at a time over keep-alive,
 * same seeded conversation sequence, rounds alternating A B A B; median round p50/p99. Target: ≤ 15%
 * at p50. Request logging is off in both (it is not part of the stack being measured).
 */
import Fastify from 'fastify';
import { CHAT_HISTORY, mulberry32, zipfSampler } from '../../../tooling/workloads.js';
import { startDemo } from '../src/demo-app.js';
import { HttpClient } from '../src/load/http-client.js';
import { summarize } from '../src/load/latency.js';
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
const bare = Fastify({ logger: false });
bare.get<{ Params: { id: string } }>('/api/conversations/:id/messages', async (request, reply) =>
  reply.type('application/json; charset=utf-8').send(bytes.get(Number(request.params.id))),
);
await bare.listen({ host: '127.0.0.1', port: 0 });
const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;

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

const p50s: Record<'bare' | 'stack', number[]> = { bare: [], stack: [] };
const p99s: Record<'bare' | 'stack', number[]> = { bare: [], stack: [] };
for (let r = 0; r <= ROUNDS; r++) {
  for (const [name, base] of [
    ['bare', bareUrl],
    ['stack', demo.url],
  ] as const) {
    const s = summarize(await round(base, 7 + r));
    if (r === 0) continue; // warm-up round
    p50s[name].push(s.p50!);
    p99s[name].push(s.p99!);
  }
}
client.close();
await bare.close();
await demo.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bareP50 = median(p50s.bare);
const stackP50 = median(p50s.stack);
console.log(
  `cached history read, 1 request at a time, ${REQUESTS} requests per round, median of ${ROUNDS} rounds`,
);
console.table([
  {
    contender: 'bare Fastify, same bytes',
    'p50 µs': (bareP50 * 1000).toFixed(0),
    'p99 µs': (median(p99s.bare) * 1000).toFixed(0),
    ratio: '1.00x',
  },
  {
    contender: 'full @perf stack (demo)',
    'p50 µs': (stackP50 * 1000).toFixed(0),
    'p99 µs': (median(p99s.stack) * 1000).toFixed(0),
    ratio: `${(stackP50 / bareP50).toFixed(2)}x`,
  },
]);
console.log(`added latency at p50: ${((stackP50 / bareP50 - 1) * 100).toFixed(1)}% (target ≤ 15%)`);
process.exit(0);
