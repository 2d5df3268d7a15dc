/**
 * The demo as `pnpm demo` runs it with nothing configured: embedded PGlite, no Redis, its own
 * assistant upstream. One process for the whole file (PGlite takes seconds to start).
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

let demo: DemoProcess;
// The assistant upstream lives in the test process, so the tests can take it down.
const upstream = new AssistantUpstream({ latencyMs: 10 });

beforeAll(async () => {
  demo = await startDemoProcess({ ASSISTANT_URL: await upstream.listen() });
});
afterAll(async () => {
  if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
  await upstream.close();
});

describe('embedded mode (PGlite, no Redis)', () => {
  it('answers /healthz, /readyz, the chat page, /metrics and the dashboard', async () => {
    expect((await api(demo.url, 'GET', '/healthz', undefined)).status).toBe(200);
    expect((await api(demo.url, 'GET', '/readyz', undefined)).body).toEqual({ status: 'ready' });
    const page = await fetch(`${demo.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('href="/dashboard"');
    const metrics = await (await fetch(`${demo.url}/metrics`)).text();
    expect(metrics).toContain('perf_http_requests_total');
    const snapshot = (await api(demo.url, 'GET', '/dashboard?format=json', undefined)).body;
    expect(snapshot).toMatchObject({ rates: expect.any(Object), hitRatio: expect.any(Object), alerts: [] });
  });

  it('creates a conversation, stores messages and reads them back at once, oldest first, paginated', async () => {
    const created = await api(demo.url, 'POST', '/api/conversations', 'alice', { title: 'Trip' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(Number), ownerId: 'alice', title: 'Trip' });
    const id = created.body.id as number;
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await api(demo.url, 'POST', `/api/conversations/${id}/messages`, 'alice', {
        text: `message ${i}`,
      });
      expect(m.status).toBe(201);
      expect(m.body).toMatchObject({
        conversationId: id,
        author: 'user',
        authorId: 'alice',
        text: `message ${i}`,
      });
      ids.push(m.body.id);
      // Read back at once by the writer: the cached history was updated before the write returned.
      const h = await api(demo.url, 'GET', `/api/conversations/${id}/messages`, 'alice');
      expect(h.body.messages.map((x: { id: number }) => x.id)).toEqual(ids);
    }
    const page = await api(demo.url, 'GET', `/api/conversations/${id}/messages?limit=2`, 'alice');
    expect(page.body.messages.map((x: { text: string }) => x.text)).toEqual(['message 3', 'message 4']);
    const older = await api(
      demo.url,
      'GET',
      `/api/conversations/${id}/messages?limit=2&before=${ids[3]}`,
      'alice',
    );
    expect(older.body.messages.map((x: { text: string }) => x.text)).toEqual(['message 1', 'message 2']);
    const list = await api(demo.url, 'GET', '/api/conversations', 'alice');
    expect(list.body.conversations.map((c: { id: number }) => c.id)).toContain(id);
  });

  it('validates input: 400 naming the field, 413 for an oversized body', async () => {
    const { body: c } = await api(demo.url, 'POST', '/api/conversations', 'val', { title: 'v' });
    const empty = await api(demo.url, 'POST', `/api/conversations/${c.id}/messages`, 'val', { text: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('body.text');
    expect(empty.body.message).toMatch(/^body\.text: /);
    const extra = await api(demo.url, 'POST', '/api/conversations', 'val', { title: 't', admin: true });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toContain('admin');
    const noUser = await api(demo.url, 'GET', `/api/conversations/${c.id}/messages`, undefined);
    expect(noUser.status).toBe(400);
    expect(noUser.body.field).toBe('headers.x-user-id');
    const badId = await api(demo.url, 'GET', '/api/conversations/abc/messages', 'val');
    expect(badId.status).toBe(400);
    expect(badId.body.field).toBe('params.id');
    const badLimit = await api(demo.url, 'GET', `/api/conversations/${c.id}/messages?limit=1000`, 'val');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.field).toBe('query.limit');
    const big = await api(demo.url, 'POST', `/api/conversations/${c.id}/messages`, 'val', {
      text: 'x'.repeat(20_000),
    });
    expect(big.status).toBe(413);
    const notJson = await api(demo.url, 'POST', '/api/conversations', 'val', '{"title":');
    expect(notJson.status).toBe(400);
  });

  it('another user can neither read, write, reply to nor coalesce onto a conversation', async () => {
    const { body: c } = await api(demo.url, 'POST', '/api/conversations', 'owner-1', { title: 'private' });
    await api(demo.url, 'POST', `/api/conversations/${c.id}/messages`, 'owner-1', { text: 'secret' });
    const path = `/api/conversations/${c.id}/messages`;
    expect((await api(demo.url, 'GET', path, 'mallory')).status).toBe(404);
    expect((await api(demo.url, 'POST', path, 'mallory', { text: 'hi' })).status).toBe(404);
    expect((await api(demo.url, 'POST', `/api/conversations/${c.id}/reply`, 'mallory')).status).toBe(404);
    expect((await api(demo.url, 'GET', '/api/conversations/999999/messages', 'owner-1')).status).toBe(404);
    // Identical reads in flight together: the owner's coalesce, the intruder's never join them.
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api(demo.url, 'GET', path, i % 2 ? 'mallory' : 'owner-1')),
    );
    for (const [i, r] of all.entries()) {
      if (i % 2) {
        expect(r.status).toBe(404);
        expect(JSON.stringify(r.body)).not.toContain('secret');
      } else {
        expect(r.status).toBe(200);
        expect(r.body.messages.at(-1).text).toBe('secret');
      }
    }
    const list = await api(demo.url, 'GET', '/api/conversations', 'mallory');
    expect(list.body.conversations).toEqual([]);
  });

  it('asks the assistant and stores its reply', async () => {
    const { body: c } = await api(demo.url, 'POST', '/api/conversations', 'asker', { title: 'q' });
    await api(demo.url, 'POST', `/api/conversations/${c.id}/messages`, 'asker', { text: 'two words' });
    const r = await api(demo.url, 'POST', `/api/conversations/${c.id}/reply`, 'asker');
    expect(r.status).toBe(201);
    expect(r.body.fallback).toBe(false);
    expect(r.body.message).toMatchObject({ author: 'assistant', text: 'You wrote 2 words. Tell me more.' });
    const h = await api(demo.url, 'GET', `/api/conversations/${c.id}/messages`, 'asker');
    expect(h.body.messages.at(-1).id).toBe(r.body.message.id);
  });

  it('keeps the history hit ratio at or above 90% under the steady chat-history workload', async () => {
    const before = await historyReadCounts(demo.url);
    const result = await runLoad({
      targets: [demo.url],
      conversations: 500,
      concurrency: 8,
      phases: [{ name: 'steady', durationMs: 5_000 }],
    });
    const after = await historyReadCounts(demo.url);
    const hr = hitRatio(before, after);
    console.log(
      `steady embedded: ${result.total.requests} requests, p99 ${result.total.latencyMs.p99?.toFixed(1)} ms, ` +
        `history hit ratio ${(hr.ratio * 100).toFixed(2)}% over ${hr.reads} reads ${JSON.stringify(hr.byResult)}`,
    );
    expect(result.total.requests).toBeGreaterThan(100);
    expect(result.total.errors).toBe(0);
    expect(result.total.clientErrors).toBe(0);
    expect(result.total.staleReads).toBe(0);
    expect(hr.reads).toBeGreaterThan(50);
    expect(hr.ratio).toBeGreaterThanOrEqual(0.9);
  });

  it('turns an upstream outage into fallback replies, never a 5xx storm, and recovers', async () => {
    const convs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(demo.url, 'POST', '/api/conversations', `o-${i}`, { title: 'o' }),
      ),
    );
    upstream.setOutage(true);
    const callsAtStart = upstream.callsDuringOutage;
    const replies = [];
    for (let round = 0; round < 4; round++) {
      replies.push(
        ...(await Promise.all(
          convs.map((c, i) => api(demo.url, 'POST', `/api/conversations/${c.body.id}/reply`, `o-${i}`)),
        )),
      );
    }
    for (const r of replies) {
      expect(r.status).toBe(201);
      expect(r.body.fallback).toBe(true);
      expect(r.ms).toBeLessThan(5_000); // bounded: timeout and retry, never a hang
    }
    // The breaker opened: later calls were answered without reaching the dead upstream.
    expect(upstream.callsDuringOutage - callsAtStart).toBeLessThan(replies.length);
    expect(replies.some((r) => r.body.reason === 'open')).toBe(true);
    const metrics = await (await fetch(`${demo.url}/metrics`)).text();
    expect(metrics).toMatch(/perf_breaker_transitions_total\{[^}]*to="open"[^}]*\} [1-9]/);
    // The fallback reply is stored like any reply; the history shows it.
    const h = await api(demo.url, 'GET', `/api/conversations/${convs[0]!.body.id}/messages`, 'o-0');
    expect(h.body.messages.at(-1).author).toBe('assistant');

    upstream.setOutage(false);
    const deadline = Date.now() + 20_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      const r = await api(demo.url, 'POST', `/api/conversations/${convs[0]!.body.id}/reply`, 'o-0');
      expect(r.status).toBe(201);
      recovered = r.body.fallback === false;
      if (!recovered) await new Promise((res) => setTimeout(res, 200));
    }
    expect(recovered).toBe(true);
  });

  // Last: it stops the demo.
  it('drains accepted requests on SIGTERM under load and exits 0', async () => {
    const convs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api(demo.url, 'POST', '/api/conversations', `d-${i}`, { title: 'd' }),
      ),
    );
    upstream.latencyMs = 700; // replies now take a while: they are in flight when the signal lands
    const callsBefore = upstream.calls;
    const inFlight = convs.map((c, i) =>
      api(demo.url, 'POST', `/api/conversations/${c.body.id}/reply`, `d-${i}`),
    );
    // Reads keep coming too, until the server stops taking them.
    let stopReads = false;
    const reads: Array<number | 'refused'> = [];
    const reader = (async () => {
      while (!stopReads) {
        const r = await api(demo.url, 'GET', `/api/conversations/${convs[0]!.body.id}/messages`, 'd-0').catch(
          () => 'refused' as const,
        );
        reads.push(typeof r === 'string' ? r : r.status);
        if (r === 'refused') break;
      }
    })();
    const until = Date.now() + 10_000;
    while (upstream.calls - callsBefore < convs.length && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    expect(upstream.calls - callsBefore).toBe(convs.length);
    const stopped = Date.now();
    demo.child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    for (const r of results) {
      expect(r.status).toBe(201);
      expect(r.body.fallback).toBe(false);
    }
    const code = await demo.exited;
    stopReads = true;
    await reader;
    expect(code).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    // Reads answered before the close were 200; after it, 503 (draining) or refused, never a 5xx crash.
    for (const s of reads) expect([200, 503, 'refused']).toContain(s);
    upstream.latencyMs = 10;
  });
});
