/**
 * docs/workloads.md "redis-outage", compressed in time to fit the benchmark budget: the chat-history
 * workload (Zipf s = 1.1 over 10,000 conversations, seed 42, 10% writes that update the history in
 * place) on two instances sharing a private redis-server (a free port, no persistence), which is
 * killed at t = 2 s and restarted at t = 4 s; the run ends at t = 7 s. Instance A does the
 * workload; instance B reads each conversation A touched. Reports failed requests, lost writes,
 * stale reads after recovery and the time to re-sync.
 */
import { performance } from 'node:perf_hooks';
import { freePort, PrivateRedis } from '../../../tooling/redis.js';
import { chatHistoryWorkload } from '../../../tooling/workloads.js';
import { createCache } from '../src/index.js';

const PORT = await freePort();

const workload = chatHistoryWorkload();

interface Message {
  id: number;
  text: string;
}
const db = new Map<number, Message[]>();
let nextId = 1;
const history = (c: number) => (db.get(c) ?? []).slice(-50);
const returnedAt = new Map<number, number>();

const redis = new PrivateRedis(PORT);
await redis.start();
const a = createCache({ namespace: 'perf-bench:outage', l3: { redis: redis.url, commandTimeoutMs: 200 } });
const b = createCache({ namespace: 'perf-bench:outage', l3: { redis: redis.url, commandTimeoutMs: 200 } });
await Promise.all([a.ready(), b.ready()]);

let failed = 0;
let ops = 0;
let staleAfterRecovery = 0;
let staleDuringOutage = 0;
let killedAt = 0;
let restartedAt = 0;
let resyncedAt = 0;
const start = performance.now();
const touched = new Set<number>();

function missingSince(c: number, value: Message[]): number | undefined {
  const last = value.at(-1)?.id ?? 0;
  const missing = db.get(c)?.find((m) => m.id > last);
  return missing === undefined ? undefined : returnedAt.get(missing.id);
}

while (performance.now() - start < 7_000) {
  const t = performance.now() - start;
  if (killedAt === 0 && t >= 2_000) {
    await redis.kill();
    killedAt = performance.now();
  }
  if (killedAt !== 0 && restartedAt === 0 && t >= 4_000) {
    await redis.start();
    restartedAt = performance.now();
  }
  if (restartedAt !== 0 && resyncedAt === 0 && a.stats().resyncs > 0 && b.stats().resyncs > 0) {
    resyncedAt = performance.now();
  }
  const c = workload.nextConversation();
  const key = `history:${c}`;
  touched.add(c);
  try {
    if (workload.nextIsWrite()) {
      const list = db.get(c) ?? [];
      list.push({ id: nextId++, text: `message ${nextId}` });
      db.set(c, list);
      await a.set(key, history(c));
      returnedAt.set(nextId - 1, performance.now());
    } else {
      const value = await a.getOrSet(key, () => history(c));
      if (missingSince(c, value) !== undefined) staleDuringOutage++; // the writer must never read stale
    }
    const seen = await b.getOrSet(key, () => history(c));
    const since = missingSince(c, seen);
    if (since !== undefined && performance.now() - since > 100 && resyncedAt !== 0) staleAfterRecovery++;
    ops += 2;
  } catch {
    failed++;
  }
  if (ops % 64 === 0) await new Promise((r) => setImmediate(r));
}

// Lost writes: after recovery, every conversation read through a fresh instance must hold every message.
const fresh = createCache({
  namespace: 'perf-bench:outage',
  l1: false,
  l2: false,
  bus: false,
  l3: { redis: redis.url },
});
await fresh.ready();
let lost = 0;
for (const c of touched) {
  const value = await fresh.get<Message[]>(`history:${c}`);
  if (value !== undefined && missingSince(c, value) !== undefined) lost++;
}

console.log(
  '\nredis-outage (compressed: kill at 2 s, restart at 4 s, end at 7 s; two instances, chat-history workload)',
);
console.log(`  operations ${ops.toLocaleString('en-US')}, failed requests ${failed}`);
console.log(`  stale reads on the writing instance ${staleDuringOutage}`);
console.log(`  lost writes (Redis holding a history older than a returned write, after recovery) ${lost}`);
console.log(`  stale reads on the other instance after re-sync (older than 100 ms) ${staleAfterRecovery}`);
console.log(
  `  time to re-sync after the restart ${resyncedAt === 0 ? 'not within the run' : `${(resyncedAt - restartedAt).toFixed(0)} ms`}`,
);
console.log(`  Redis errors counted (and absorbed): A ${a.stats().errors}, B ${b.stats().errors}`);
await Promise.all([a.close(), b.close(), fresh.close()]);
await redis.kill();
process.exit(0);
