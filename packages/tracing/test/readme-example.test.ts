import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCache } from '@perf/cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import { correlationId, correlationMiddleware, propagatingFetch, setupTracing } from '../src/index.js';

// The README example as written (sampler 0.25, default exporter), with the endpoint from
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at the test's receiver and a rooms service to call.
let receiver: OtlpReceiver;
let rooms: http.Server;
let roomsUrl: string;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  rooms = http.createServer((req, res) =>
    res.end(JSON.stringify({ rooms: ['general'], traceparent: req.headers.traceparent })),
  );
  await new Promise<void>((r) => rooms.listen(0, '127.0.0.1', r));
  roomsUrl = `http://127.0.0.1:${(rooms.address() as AddressInfo).port}/rooms`;
});
afterAll(async () => {
  rooms.close();
  await receiver.close();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
});

describe('README example', () => {
  it('runs as documented, without awaiting anything before use', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url.replace('/v1/traces', '');
    const tracing = setupTracing({ serviceName: 'chat', sampler: 0.25 });
    const cache = createCache({ namespace: 'chat' });
    const fetchTraced = propagatingFetch();
    const correlate = correlationMiddleware();
    const server = http.createServer((req, res) =>
      correlate(req, res, async () => {
        const got = await cache.getOrSet('rooms', async () => (await fetchTraced(roomsUrl)).json());
        res.end(JSON.stringify({ rooms: got, correlationId: correlationId() }));
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      // A sampled caller: parent-based sampling keeps its trace whatever the 0.25 ratio says.
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-correlation-id': 'readme-1' },
      });
      const body = (await r.json()) as {
        rooms: { rooms: string[]; traceparent: string };
        correlationId: string;
      };
      expect(body.correlationId).toBe('readme-1');
      expect(body.rooms.rooms).toEqual(['general']);
      expect(body.rooms.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
      await tracing.shutdown();
      const names = receiver.spans.filter((s) => s.traceId === traceId).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['GET', 'dedup.run', 'cache.factory']));
      expect(names.filter((n) => n === 'GET')).toHaveLength(2); // SERVER + CLIENT
      expect(receiver.spans.find((s) => s.traceId === traceId)!.resource['service.name']).toBe('chat');
    } finally {
      server.close();
      await cache.close();
      await tracing.shutdown();
    }
  });
});
