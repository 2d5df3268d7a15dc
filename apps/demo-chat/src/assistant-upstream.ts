/**
 * The assistant upstream: a separate small HTTP service standing in for an LLM API. Its latency,
 * error rate and outage switch are what the breaker is shown against. `POST /v1/reply` answers
 * `{ text }`; `POST /admin/outage {"on":true}` and `POST /admin/config` change it at run time.
 * Through @perf/tracing's middleware it continues the caller's trace (a SERVER span under the
 * demo's CLIENT span, when tracing is set up in its process) and keeps the caller's correlation id.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { correlationMiddleware } from '@perf/tracing';

export interface UpstreamOptions {
  latencyMs?: number;
  errorRate?: number;
  host?: string;
  port?: number;
}

export class AssistantUpstream {
  latencyMs: number;
  errorRate: number;
  outage = false;
  /** Calls received, and those that arrived while it was down (the breaker should keep this low). */
  calls = 0;
  callsDuringOutage = 0;
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;

  constructor(o: UpstreamOptions = {}) {
    this.latencyMs = o.latencyMs ?? 20;
    this.errorRate = o.errorRate ?? 0;
    this.#host = o.host ?? '127.0.0.1';
    this.#port = o.port ?? 0;
    const correlate = correlationMiddleware();
    this.#server = createServer((req, res) =>
      correlate(req, res, () => {
        void this.#handle(req).then(
          ({ status, body }) => {
            res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          },
          () => res.writeHead(400).end(),
        );
      }),
    );
    this.#server.keepAliveTimeout = 5_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(this.#port, this.#host, resolve));
    return this.url;
  }

  get url(): string {
    const a = this.#server.address() as AddressInfo;
    return `http://${this.#host}:${a.port}`;
  }

  setOutage(on: boolean): void {
    this.outage = on;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    if (req.method === 'POST' && req.url === '/admin/outage') {
      this.outage = input.on === true;
      return { status: 200, body: { outage: this.outage } };
    }
    if (req.method === 'POST' && req.url === '/admin/config') {
      if (typeof input.latencyMs === 'number') this.latencyMs = input.latencyMs;
      if (typeof input.errorRate === 'number') this.errorRate = input.errorRate;
      return { status: 200, body: { latencyMs: this.latencyMs, errorRate: this.errorRate } };
    }
    if (req.method !== 'POST' || req.url !== '/v1/reply')
      return { status: 404, body: { error: 'not found' } };
    this.calls++;
    if (this.outage) {
      this.callsDuringOutage++;
      return { status: 503, body: { error: 'assistant is down' } };
    }
    await new Promise((r) => setTimeout(r, this.latencyMs));
    if (Math.random() < this.errorRate) return { status: 500, body: { error: 'assistant failed' } };
    const last: string = input.messages?.at?.(-1)?.text ?? '';
    const words = last.split(/\s+/).filter(Boolean).length;
    return { status: 200, body: { text: `You wrote ${words} word${words === 1 ? '' : 's'}. Tell me more.` } };
  }
}
