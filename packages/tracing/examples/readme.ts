import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { correlationId, correlationMiddleware, propagatingFetch, setupTracing } from '@perf/tracing';

// Synchronous: spans flow from the next line on, no `await ready()`. Leave `exporter` out in a
// service and spans go over OTLP/HTTP to http://localhost:4318/v1/traces (Jaeger ingests it).
const tracing = setupTracing({ serviceName: 'chat', exporter: 'console' });

const fetchTraced = propagatingFetch(); // continues the trace (and the correlation id) downstream
const correlate = correlationMiddleware();

const server = http.createServer((req, res) =>
  correlate(req, res, async () => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/rooms') {
      // The downstream service sees the caller's trace and correlation id.
      res.end(JSON.stringify({ correlationId: correlationId(), traceparent: req.headers.traceparent }));
      return;
    }
    const rooms = await (await fetchTraced(`http://127.0.0.1:${port()}/rooms`)).json();
    res.end(JSON.stringify({ correlationId: correlationId(), rooms }));
  }),
);
const port = () => (server.address() as AddressInfo).port;

server.listen(0, '127.0.0.1', async () => {
  const reply = await fetch(`http://127.0.0.1:${port()}/`, { headers: { 'x-correlation-id': 'readme-1' } });
  // { correlationId: 'readme-1', rooms: { correlationId: 'readme-1', traceparent: '00-<trace id>-…' } }
  console.log(await reply.json());
  server.close();
  await tracing.shutdown(); // flushes every finished span, then unregisters
});
