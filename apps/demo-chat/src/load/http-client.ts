/** A minimal keep-alive HTTP client for the load generator (node:http: less overhead than fetch). */
import { Agent, request } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
  /** Milliseconds from sending to the last byte. */
  ms: number;
}

export class HttpClient {
  readonly #agent: Agent;

  constructor(maxSockets: number) {
    this.#agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
  }

  send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: unknown,
    timeoutMs = 10_000,
  ): Promise<HttpResult> {
    const started = performance.now();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          headers:
            payload === undefined
              ? headers
              : {
                  ...headers,
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(payload),
                },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
