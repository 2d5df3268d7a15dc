/**
 * The redis-outage workload: two instances share a private redis-server (a free port, no
 * persistence) and a PostgreSQL database of this run; Redis is killed and restarted while the
 * chat-history load runs. No request may fail and no message may be lost or go missing from a read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/load-generator.js';
import { ownerOfConversation } from '../../src/workload-plan.js';
import { api, type DemoProcess, startDemoProcess } from '../helpers/demo-process.js';
import {
  createDatabase,
  freePort,
  PrivateRedis,
  postgresAvailable,
  query,
  redisAvailable,
} from '../helpers/services.js';

const available = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!available)('Redis killed and restarted under load', () => {
  let redis: PrivateRedis;
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    database = await createDatabase();
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url };
    a = await startDemoProcess(env);
    b = await startDemoProcess(env);
  });
  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
    await database?.drop();
    expect(codes).toEqual([0, 0]);
  });

  it('loses no request and no message, and serves every write afterwards', async () => {
    const writes: Array<{ conversationId: number; messageId: number }> = [];
    let killedAt = 0;
    let restartedAt = 0;
    const result = await runLoad({
      targets: [a.url, b.url],
      conversations: 500,
      concurrency: 8,
      writeRatio: 0.2,
      replyShare: 0.1,
      onWrite: (w) => writes.push(w),
      phases: [
        { name: 'before', durationMs: 3_000 },
        {
          name: 'redis down',
          durationMs: 3_000,
          onStart: async () => {
            await redis.kill();
            killedAt = writes.length;
          },
        },
        {
          name: 'redis back',
          durationMs: 3_000,
          onStart: async () => {
            await redis.start();
            restartedAt = writes.length;
          },
        },
      ],
    });
    const down = result.phases[1]!;
    console.log(
      `redis outage: ${result.total.requests} requests (${down.requests} while Redis was down), ` +
        `${result.total.errors} errors, ${result.total.staleReads} stale reads, ${writes.length} writes ` +
        `(${restartedAt - killedAt} during the outage), p99 ${result.total.latencyMs.p99?.toFixed(1)} ms ` +
        `(down: ${down.latencyMs.p99?.toFixed(1)} ms)`,
    );
    expect(result.firstErrors).toEqual([]);
    expect(result.total.errors).toBe(0);
    expect(result.total.clientErrors).toBe(0);
    expect(result.total.staleReads).toBe(0);
    expect(down.requests).toBeGreaterThan(50);
    expect(restartedAt - killedAt).toBeGreaterThan(0);

    // Every acknowledged write is in the database.
    const ids = writes.map((w) => w.messageId);
    const stored = await query<{ id: string }>(
      database.url,
      'select id from messages where id = any($1::bigint[])',
      [ids],
    );
    expect(stored.length).toBe(new Set(ids).size);

    // And both instances serve it: each conversation's newest acknowledged write is in its history.
    const newest = new Map<number, number>();
    for (const w of writes)
      newest.set(w.conversationId, Math.max(newest.get(w.conversationId) ?? 0, w.messageId));
    for (const target of [a.url, b.url]) {
      for (const [conversationId, messageId] of newest) {
        const r = await api(
          target,
          'GET',
          `/api/conversations/${conversationId}/messages?limit=100`,
          ownerOfConversation(conversationId),
        );
        expect(r.status).toBe(200);
        expect(r.body.messages.some((m: { id: number }) => m.id === messageId)).toBe(true);
      }
    }
  });
});
