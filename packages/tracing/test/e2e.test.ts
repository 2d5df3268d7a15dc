import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { context, propagation } from '@opentelemetry/api';
import { Deduplicator } from '@perf/dedup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import {
  correlationId,
  correlationMiddleware,
  propagatingFetch,
  ruleBasedSampler,
  setupTracing,
  type TracingHandle,
} from '../src/index.js';

// Two services, one trace: A (this process) dedups concurrent calls and calls B (a child process
// with its own setupTracing) through the propagating fetch; B reads through @perf/cache, whose
// factory calls the database through a @perf/resilience breaker.

let receiver: OtlpReceiver;
let tracing: TracingHandle;
let serviceB: ChildProcess;
let bUrl: string;
let aUrl: string;
let serverA: http.Server;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  serviceB = spawn(process.execPath, [fileURLToPath(new URL('fixtures/service-b.mjs', import.meta.url))], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, OTLP_URL: receiver.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  bUrl = await new Promise<string>((resolve, reject) => {
    serviceB.stdout!.on('data', (d: Buffer) => {
      const m = /PORT (\d+)/.exec(String(d));
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    serviceB.once('exit', (code) => reject(new Error(`service B exited with ${code}`)));
  });

  tracing = setupTracing({
    serviceName: 'svc-a',
    endpoint: receiver.url,
    batch: { scheduledDelayMs: 20 },
    sampler: ruleBasedSampler({ rules: [{ name: 'unsampled', route: '/unsampled', sample: 0 }] }),
  });
  const dedup = new Deduplicator({ name: 'room-history' });
  const fetchTraced = propagatingFetch();
  const correlate = correlationMiddleware();
  serverA = http.createServer((req, res) =>
    correlate(req, res, async () => {
      const baggage = propagation.createBaggage({ 'tenant.id': { value: 'acme' } });
      const callB = () =>
        context.with(
          propagation.setBaggage(context.active(), baggage),
          async () =>
            (await fetchTraced(`${bUrl}/history?room=1`)).json() as Promise<Record<string, unknown>>,
        );
      // Two concurrent identical calls: one leader, one follower linked to it.
      const [first, second] = await Promise.all([dedup.run('room:1', callB), dedup.run('room:1', callB)]);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ a: correlationId(), b: first, same: first === second }));
    }),
  );
  await new Promise<void>((r) => serverA.listen(0, '127.0.0.1', r));
  aUrl = `http://127.0.0.1:${(serverA.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  serverA?.close();
  await tracing?.shutdown();
  if (serviceB && serviceB.exitCode === null) {
    const exited = new Promise((r) => serviceB.once('exit', r));
    serviceB.kill('SIGTERM');
    await exited;
  }
  await receiver?.close();
});

const byName = (spans: ReceivedSpan[], name: string, service: string) =>
  spans.filter((s) => s.name === name && s.resource['service.name'] === service);

describe('end to end: two services, one trace', () => {
  it('A server -> dedup leader (+ linked follower) -> client -> B server -> cache factory -> breaker', async () => {
    const res = await fetch(`${aUrl}/chat`, { headers: { 'x-correlation-id': 'e2e-corr-1' } });
    const body = (await res.json()) as { a: string; b: Record<string, unknown>; same: boolean };
    expect(body.a).toBe('e2e-corr-1');
    expect(body.b.correlationId).toBe('e2e-corr-1'); // passed on by the propagating fetch
    expect(body.b.history).toEqual(['hello', 'world']);
    expect(body.b.baggage).toBe('tenant.id=acme');

    const spans = await receiver.waitFor(
      (s) =>
        s.some((x) => x.name === 'breaker failure') &&
        s.filter((x) => x.name === 'breaker call').length >= 2 &&
        s.some((x) => x.resource['service.name'] === 'svc-b' && x.name === 'GET') &&
        s.some((x) => x.name === 'dedup.join'),
      15_000,
    );
    const aServer = byName(spans, 'GET', 'svc-a').find((s) => s.kind === 2)!;
    const leader = byName(spans, 'dedup.run', 'svc-a')[0]!;
    const follower = byName(spans, 'dedup.join', 'svc-a')[0]!;
    const client = byName(spans, 'GET', 'svc-a').find((s) => s.kind === 3)!;
    const bServer = byName(spans, 'GET', 'svc-b').find((s) => s.kind === 2)!;
    const factory = byName(spans, 'cache.factory', 'svc-b')[0]!;
    const breakerSpan = byName(spans, 'breaker failure', 'svc-b')[0]!;

    const traceId = aServer.traceId;
    for (const s of [leader, follower, client, bServer, factory, breakerSpan])
      expect(s.traceId).toBe(traceId);
    expect(body.b.traceId).toBe(traceId);
    expect(aServer.parentSpanId).toBeUndefined();
    expect(aServer.attributes['perf.correlation_id']).toBe('e2e-corr-1');
    expect(leader.parentSpanId).toBe(aServer.spanId);
    expect(follower.parentSpanId).toBe(aServer.spanId);
    expect(follower.links).toEqual([{ traceId, spanId: leader.spanId }]);
    expect(client.parentSpanId).toBe(leader.spanId); // the leader's work made the call
    expect(client.attributes['url.full']).toBe(`${bUrl}/history`);
    expect(bServer.parentSpanId).toBe(client.spanId); // continued across the process boundary
    expect(bServer.attributes['perf.correlation_id']).toBe('e2e-corr-1');
    expect(body.b.traceparent).toBe(`00-${traceId}-${client.spanId}-01`);
    // The cache coalesces concurrent misses through its own Deduplicator: factory under dedup.run.
    const cacheDedup = byName(spans, 'dedup.run', 'svc-b')[0]!;
    expect(cacheDedup.parentSpanId).toBe(bServer.spanId);
    expect(factory.parentSpanId).toBe(cacheDedup.spanId);
    // The factory's own work runs in the cache's dedup.run context, not under cache.factory:
    // both breaker calls (the failed one and the successful one) get a span there, and the failed
    // attempt's span sits under its call.
    const calls = byName(spans, 'breaker call', 'svc-b');
    expect(calls.map((c) => c.attributes['perf.breaker.outcome']).sort()).toEqual(['failure', 'success']);
    for (const c of calls) expect(c.parentSpanId).toBe(cacheDedup.spanId);
    const failedCall = calls.find((c) => c.attributes['perf.breaker.outcome'] === 'failure')!;
    expect(breakerSpan.parentSpanId).toBe(failedCall.spanId);
    expect(factory.attributes['cache.key']).toMatch(/^sha256:/); // hashed: it held a user id
    expect(JSON.stringify(spans)).not.toContain('user-42');
    expect(breakerSpan.attributes['perf.breaker.name']).toBe('history-db');
    expect(breakerSpan.status.code).toBe(2);
    expect(bServer.resource['service.name']).toBe('svc-b');
    expect(aServer.resource['service.name']).toBe('svc-a');
  }, 30_000);

  it('an unsampled request stays unsampled downstream: B records nothing either', async () => {
    const before = receiver.spans.length;
    const res = await fetch(`${aUrl}/unsampled`, { headers: { 'x-correlation-id': 'e2e-unsampled' } });
    const body = (await res.json()) as { b: { traceparent: string; correlationId: string } };
    expect(body.b.correlationId).toBe('e2e-unsampled'); // correlation still flows
    expect(body.b.traceparent).toMatch(/-00$/); // the not-sampled flag was propagated
    // Let both batch processors run a few times, then check nothing of that trace arrived.
    await tracing.forceFlush();
    await new Promise((r) => setTimeout(r, 300));
    const traceId = body.b.traceparent.split('-')[1];
    expect(receiver.spans.slice(before).filter((s) => s.traceId === traceId)).toEqual([]);
    expect(tracing.samplingStats().rules.unsampled).toEqual({ sampled: 0, dropped: 1 });
  }, 30_000);
});
