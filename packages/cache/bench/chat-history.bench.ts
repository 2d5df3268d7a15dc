/**
 * docs/workloads.md "chat-history": 10,000 conversations, Zipf s = 1.1 popularity (seed 42); 90%
 * reads of a conversation's last 50 messages through getOrSet, 10% writes of one message that
 * update the history key in place (write-through set) before returning. First 10,000 operations
 * are warm-up. Runs the default tiers (L1; L2 off), plus L3 on Redis when one answers (own key prefix, deleted after).
 * A stale read is a read missing a message whose write had already returned: must be 0.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { REDIS_URL, redisAnswers } from '../../../tooling/redis.js';
import { CHAT_HISTORY, chatHistoryWorkload } from '../../../tooling/workloads.js';
import { createCache } from '../src/index.js';

interface Message {
  id: number;
  author: number;
  at: number;
  text: string;
}

const CONVERSATIONS = CHAT_HISTORY.conversations;
const WARMUP = CHAT_HISTORY.warmupOps;
const MEASURED = 100_000;
let workload = chatHistoryWorkload();

const withRedis = await redisAnswers();

async function run(warmFirst: boolean): Promise<void> {
  // The "database": every message of every conversation.
  workload = chatHistoryWorkload();
  const db = new Map<number, Message[]>();
  let nextId = 1;
  function history(conversation: number): Message[] {
    return (db.get(conversation) ?? []).slice(-50);
  }
  for (let c = 0; c < CONVERSATIONS; c++) {
    db.set(c, [{ id: nextId++, author: c % 97, at: 1_700_000_000_000, text: workload.messageText() }]);
  }

  const namespace = `perf-bench:cache:chat:${randomBytes(4).toString('hex')}`;
  const cache = createCache({
    namespace,
    defaultTtlMs: 300_000,
    ...(withRedis ? { l3: { redis: REDIS_URL } } : {}),
  });
  await cache.ready();
  // A second instance on the same Redis reads each conversation right after the first one touched
  // it: it may see the old history only until the bus notice arrives (the issue allows 100 ms).
  const other = withRedis
    ? createCache({ namespace, defaultTtlMs: 300_000, l3: { redis: REDIS_URL } })
    : undefined;
  await other?.ready();
  const returnedAt = new Map<number, number>(); // message id -> when its write returned
  let otherStale = 0;
  let otherStaleLate = 0;
  let otherWorstMs = 0;
  let otherTime = 0; // the second instance's reads are not part of the first one's throughput
  if (warmFirst) {
    const warmed = await cache.warm(
      () => Array.from(db.keys(), (c) => ({ key: `history:${c}`, value: history(c) })),
      { concurrency: 16 },
    );
    console.log(`\n  warm(): ${warmed.warmed} histories loaded before the run`);
  }

  const latencies = new Float64Array(MEASURED);
  let stale = 0;
  let compulsory = 0;
  const seen = new Set<number>();
  let reads = 0;
  let writes = 0;
  let statsAtWarmup = cache.stats();
  let started = 0;
  for (let op = 0; op < WARMUP + MEASURED; op++) {
    if (op === WARMUP) {
      statsAtWarmup = cache.stats();
      started = performance.now();
    }
    const conversation = workload.nextConversation();
    const firstTime = !seen.has(conversation);
    const key = `history:${conversation}`;
    const t0 = performance.now();
    if (workload.nextIsWrite()) {
      const messages = db.get(conversation)!;
      messages.push({
        id: nextId++,
        author: conversation % 97,
        at: 1_700_000_000_000 + op,
        text: workload.messageText(),
      });
      await cache.set(key, history(conversation));
      returnedAt.set(nextId - 1, performance.now());
      if (op >= WARMUP) writes++;
    } else {
      if (firstTime && !warmFirst && op >= WARMUP) compulsory++;
      const value = await cache.getOrSet(key, () => history(conversation));
      const latest = db.get(conversation)!.at(-1)!.id;
      if (value.at(-1)?.id !== latest) stale++;
      if (op >= WARMUP) reads++;
    }
    seen.add(conversation);
    if (op >= WARMUP) latencies[op - WARMUP] = performance.now() - t0;
    if (other !== undefined) {
      const otherStarted = performance.now();
      const seenByOther = await other.getOrSet(key, () => history(conversation));
      const lastSeen = seenByOther.at(-1)?.id ?? 0;
      const missing = db.get(conversation)!.find((m) => m.id > lastSeen);
      const since = missing === undefined ? undefined : returnedAt.get(missing.id);
      if (since !== undefined && op >= WARMUP) {
        const age = performance.now() - since;
        otherStale++;
        otherWorstMs = Math.max(otherWorstMs, age);
        if (age > 100) otherStaleLate++;
      }
      if (op >= WARMUP) otherTime += performance.now() - otherStarted;
    }
  }
  const elapsed = performance.now() - started - otherTime;
  const end = cache.stats();

  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p: number) =>
    `${(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 1000).toFixed(1)} µs`;
  const rate = (tier: 'l1' | 'l2' | 'l3') => {
    const a = statsAtWarmup.tiers[tier];
    const b = end.tiers[tier];
    if (!a || !b) return 'off';
    const hits = b.hits - a.hits;
    const misses = b.misses - a.misses;
    return `${((100 * hits) / Math.max(1, hits + misses)).toFixed(2)}% (${hits} hits / ${misses} misses)`;
  };
  const hits = end.hits - statsAtWarmup.hits;
  const misses = end.misses - statsAtWarmup.misses;
  console.log(
    `\nchat-history (${warmFirst ? 'cache warmed with warm() first' : 'cold start'}): ${MEASURED.toLocaleString('en-US')} ops after ${WARMUP.toLocaleString('en-US')} warm-up ops, tiers L1${withRedis ? ' + L3 (Redis) + bus' : ' (no Redis answered)'}`,
  );
  console.log(`  reads ${reads}, writes ${writes}`);
  console.log(`  hit ratio overall ${((100 * hits) / Math.max(1, hits + misses)).toFixed(2)}%`);
  if (compulsory > 0) {
    console.log(
      `  of the ${misses} misses, ${compulsory} are first reads of a conversation never seen before (compulsory); hit ratio without them ${((100 * hits) / Math.max(1, hits + misses - compulsory)).toFixed(2)}%`,
    );
  }
  console.log(`  L1 ${rate('l1')}`);
  console.log(`  L2 ${rate('l2')}`);
  console.log(`  L3 ${rate('l3')}`);
  console.log(`  stale reads on the writing instance: ${stale}`);
  if (other !== undefined) {
    console.log(
      `  second instance: ${otherStale} reads within the bus delay saw the previous history (worst ${otherWorstMs.toFixed(1)} ms after the write returned); ${otherStaleLate} older than 100 ms`,
    );
  }
  console.log(`  latency p50 ${pct(0.5)}, p95 ${pct(0.95)}, p99 ${pct(0.99)}`);
  console.log(`  throughput ${Math.round((MEASURED / elapsed) * 1000).toLocaleString('en-US')} ops/s`);
  await cache.clear();
  await cache.close();
  await other?.close();
}

await run(false);
await run(true);
process.exit(0);
