/** Optional bearer-token protection for `/metrics` and the dashboard (constant-time compare). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class BearerAuth {
  readonly #expected: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#expected = token === undefined ? undefined : digest(token);
  }

  get enabled(): boolean {
    return this.#expected !== undefined;
  }

  /**
   * True when no token is configured, or the request carries it as `Authorization: Bearer <token>`
   * (or, when `allowQuery`, as `?token=` — what a browser's EventSource can send).
   */
  allows(req: IncomingMessage, allowQuery = false): boolean {
    if (!this.#expected) return true;
    const header = req.headers.authorization;
    let presented: string | undefined;
    if (typeof header === 'string' && /^bearer /i.test(header)) presented = header.slice(7).trim();
    else if (allowQuery) {
      presented = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
    }
    return presented !== undefined && timingSafeEqual(digest(presented), this.#expected);
  }
}
