/**
 * Two demo instances sharing the real Redis (6379, under a key prefix of this run, deleted after)
 * and the real PostgreSQL (a database of this run, dropped after), as `pnpm demo` runs them with
 * DATABASE_URL and REDIS_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssistantUpstream } from '../../src/assistant-upstream.js';
import { runLoad } from '../../src/load/load-generator.js';
import {
  api,
  type DemoProcess,
  historyReadCounts,
  hitRatio,
  startDemoProcess,
} from '../helpers/demo-process.js';
import {
  createDatabase,
  postgresAvailable,
  REDIS_URL,
  redisAvailable,
  redisPrefix,
} from '../helpers/services.js';

const available = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!available)('two instances sharing Redis and PostgreSQL', () => {
  const { prefix, clean } = redisPrefix();
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let a: DemoProcess;
  let b: DemoProcess;
  // One assistant upstream for both instances, in the test process so the tests can take it down.
  const upstream = new AssistantUpstream({ latencyMs: 10 });

  beforeAll(async () => {
    database = await createDatabase();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      DEMO_REDIS_PREFIX: prefix,
      ASSISTANT_URL: await upstream.listen(),
    };
    a = await startDemoProcess({ ...env, DEMO_REQUEST_LOGS: 'on' }); // a logs every request
    b = await startDemoProcess(env); // migrations and seed already done by a: b finds them applied
  });
  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await upstream.close();
    await clean();
    await database?.drop();
    expect(codes).toEqual([0, 0]);
  });

  it('a write on one instance is read back at once by its writer and within 100 ms by the other', async () => {
    const { body: c } = await api(a.url, 'POST', '/api/conversations', 'sharer', { title: 'shared' });
    // Both instances have the history cached before the writes.
    expect((await api(a.url, 'GET', `/api/conversations/${c.id}/messages`, 'sharer')).status).toBe(200);
    expect((await api(b.url, 'GET', `/api/conversations/${c.id}/messages`, 'sharer')).status).toBe(200);
    const lags: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = await api(a.url, 'POST', `/api/conversations/${c.id}/messages`, 'sharer', { text: `m${i}` });
      expect(w.status).toBe(201);
      const written = performance.now();
      const own = await api(a.url, 'GET', `/api/conversations/${c.id}/messages`, 'sharer');
      expect(own.body.messages.at(-1).id).toBe(w.body.id);
      // The other instance: the first read *sent* after it shows the message; how long after the write.
      for (;;) {
        const sent = performance.now();
        const r = await api(b.url, 'GET', `/api/conversations/${c.id}/messages`, 'sharer');
        if (r.body.messages.at(-1)?.id === w.body.id) {
          lags.push(sent - written);
          break;
        }
        expect(performance.now() - written).toBeLessThan(2_000);
        await new Promise((res) => setTimeout(res, 5));
      }
    }
    console.log(`cross-instance read-after-write lag (ms): ${lags.map((x) => x.toFixed(1)).join(', ')}`);
    for (const lag of lags) expect(lag).toBeLessThan(100);
  });

  it('carries the correlation id into the response and every log line of the request', async () => {
    const res = await fetch(`${a.url}/api/conversations`, {
      headers: { 'x-user-id': 'corr', 'x-correlation-id': 'e2e-corr-42' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-correlation-id')).toBe('e2e-corr-42');
    const generated = await fetch(`${a.url}/healthz`);
    expect(generated.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const deadline = Date.now() + 5_000;
    const lines = () => a.logs.filter((l) => l.includes('"correlation_id":"e2e-corr-42"'));
    while (lines().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const parsed = lines().map((l) => JSON.parse(l) as { msg: string; trace_id?: string });
    expect(parsed.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'request completed']),
    );
    // No OTEL_* export variable: no SDK is set up, so there are no trace ids to log.
    for (const line of parsed) expect(line.trace_id).toBeUndefined();
  });

  it('keeps another user out, on either instance', async () => {
    const { body: c } = await api(a.url, 'POST', '/api/conversations', 'owner-x', { title: 'mine' });
    await api(a.url, 'POST', `/api/conversations/${c.id}/messages`, 'owner-x', { text: 'private' });
    const path = `/api/conversations/${c.id}/messages`;
    const all = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        api(i % 4 < 2 ? a.url : b.url, 'GET', path, i % 2 ? 'intruder' : 'owner-x'),
      ),
    );
    for (const [i, r] of all.entries()) expect(r.status).toBe(i % 2 ? 404 : 200);
    expect((await api(b.url, 'POST', `/api/conversations/${c.id}/reply`, 'intruder')).status).toBe(404);
  });

  it('serves the steady workload over both instances with a ≥ 90% hit ratio and no stale read', async () => {
    const before = await Promise.all([historyReadCounts(a.url, prefix), historyReadCounts(b.url, prefix)]);
    const result = await runLoad({
      targets: [a.url, b.url],
      conversations: 500,
      concurrency: 8,
      phases: [{ name: 'steady', durationMs: 5_000 }],
    });
    const after = await Promise.all([historyReadCounts(a.url, prefix), historyReadCounts(b.url, prefix)]);
    const hrA = hitRatio(before[0]!, after[0]!);
    const hrB = hitRatio(before[1]!, after[1]!);
    console.log(
      `steady over 2 instances (Redis + PostgreSQL): ${result.total.requests} requests, ` +
        `${result.total.requestsPerSecond.toFixed(0)}/s, p99 ${result.total.latencyMs.p99?.toFixed(1)} ms; ` +
        `hit ratio a ${(hrA.ratio * 100).toFixed(2)}% ${JSON.stringify(hrA.byResult)}, b ${(hrB.ratio * 100).toFixed(2)}% ${JSON.stringify(hrB.byResult)}`,
    );
    expect(result.total.errors).toBe(0);
    expect(result.total.clientErrors).toBe(0);
    expect(result.total.staleReads).toBe(0);
    expect(hrA.ratio).toBeGreaterThanOrEqual(0.9);
    expect(hrB.ratio).toBeGreaterThanOrEqual(0.9);
  });

  it('coalesces identical reply requests across the two instances into one upstream call', async () => {
    const { body: c } = await api(a.url, 'POST', '/api/conversations', 'dup-user', { title: 'dup' });
    await api(a.url, 'POST', `/api/conversations/${c.id}/messages`, 'dup-user', { text: 'one call please' });
    upstream.latencyMs = 500; // long enough for every request to arrive while the first is running
    const calls = upstream.calls;
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(i % 2 ? b.url : a.url, 'POST', `/api/conversations/${c.id}/reply`, 'dup-user'),
      ),
    );
    upstream.latencyMs = 10;
    for (const r of replies) expect(r.status).toBe(201);
    expect(new Set(replies.map((r) => r.body.message.id)).size).toBe(1);
    expect(upstream.calls - calls).toBe(1);
  });

  it('opens the breaker on the other instance too when the upstream fails (shared over Redis)', async () => {
    const convs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        api(a.url, 'POST', '/api/conversations', `br-${i}`, { title: 'br' }),
      ),
    );
    const breakerOn = async (url: string) =>
      (
        (await api(url, 'GET', '/dashboard?format=json', undefined)).body.breakers as Array<{
          name: string;
          state: string;
        }>
      ).find((x) => x.name === 'assistant')?.state;
    upstream.setOutage(true);
    try {
      // Only instance a calls the upstream.
      for (let round = 0; round < 3 && (await breakerOn(a.url)) !== 'open'; round++) {
        await Promise.all(
          convs.map((c, i) => api(a.url, 'POST', `/api/conversations/${c.body.id}/reply`, `br-${i}`)),
        );
      }
      expect(await breakerOn(a.url)).toBe('open');
      const before = upstream.callsDuringOutage;
      // b has made no failing call itself, yet its breaker is open: its replies are fallbacks at once.
      const r = await api(b.url, 'POST', `/api/conversations/${convs[0]!.body.id}/reply`, 'br-0');
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ fallback: true, reason: 'open' });
      expect(upstream.callsDuringOutage).toBe(before);
    } finally {
      upstream.setOutage(false);
    }
  });
});
