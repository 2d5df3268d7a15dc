import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type UpstreamMode = 'up' | 'down' | 'slow';

/**
 * The assistant upstream every demo instance shares (ASSISTANT_URL), owned by the harness so its
 * faults are injected from outside the instances. It speaks the demo's upstream protocol
 * (`POST /v1/reply` {messages} -> {text}); down answers 503 at once, slow answers after `slowMs`
 * (past the demo's assistant timeout).
 */
export class SoakUpstream {
  mode: UpstreamMode = 'up';
  calls = 0;
  readonly #server: Server;
  readonly #latencyMs: number;
  readonly #slowMs: number;

  constructor(options: { latencyMs?: number; slowMs?: number } = {}) {
    // Long enough that a burst of identical replies over the instances overlaps the leader's call.
    this.#latencyMs = options.latencyMs ?? 150;
    this.#slowMs = options.slowMs ?? 3_000;
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/reply') {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
          return;
        }
        this.calls++;
        if (this.mode === 'down') {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"assistant is down"}');
          return;
        }
        const delay = this.mode === 'slow' ? this.#slowMs : this.#latencyMs;
        const timer = setTimeout(() => {
          if (res.destroyed) return;
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ text: `reply #${this.calls}` }));
        }, delay);
        res.once('close', () => clearTimeout(timer));
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
