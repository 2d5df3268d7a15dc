/**
 * `dedupMiddleware`: node:http and Express-style `(req, res, next)`. Identical concurrent requests
 * (GET/HEAD by default) run the handler once; joiners receive the same status, headers and body bytes.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  type CapturedResponse,
  type DedupHttpOptions,
  type HttpRequestLike,
  isShareable,
  keyOf,
  type ResolvedHttpOptions,
  replayHeaders,
  resolveHttpOptions,
} from './http-response.js';

/** An Express-style middleware, also usable with plain node:http (see the README). */
export interface DedupMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The Deduplicator behind it (for `stats()` and `close()`). */
  readonly deduplicator: ResolvedHttpOptions['deduplicator'];
}

/**
 * Creates the middleware. A request that cannot be keyed, or whose method is not listed, runs as
 * usual. A joiner whose leader fails, is cancelled or produces a response that must not be shared
 * (Set-Cookie, `Cache-Control: private`, `Vary` beyond the key, larger than `maxResponseBytes`) runs
 * the handler itself, so a joiner never gets less than it would have without deduplication.
 *
 * @throws {PerfConfigError} naming the invalid option.
 */
export function dedupMiddleware(options?: DedupHttpOptions): DedupMiddleware {
  const opts = resolveHttpOptions('dedupMiddleware', options);
  const { deduplicator } = opts;
  const runOptions = opts.waitTimeoutMs === undefined ? undefined : { timeoutMs: opts.waitTimeoutMs };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const key = keyOf(opts, req as HttpRequestLike);
    if (key === undefined) {
      next();
      return;
    }
    let led = false;
    const shared = deduplicator.run(
      key,
      () => {
        led = true;
        return captureResponse(res, opts);
      },
      // A joiner's wait bound only: the leader's request is bounded by the in-flight limit.
      deduplicator.has(key) ? runOptions : undefined,
    );
    if (led) {
      shared.catch(() => {}); // the leader answers its own client; its failures are its handler's
      next(); // outside the capture, so a handler that throws behaves exactly as without us
      return;
    }
    shared.then(
      (captured) => {
        if (captured.shareable) replay(res, captured);
        else next();
      },
      () => next(),
    );
  };
  return Object.assign(middleware, { deduplicator });
}

/** Records what the leader's handler writes (the caller then calls `next()`). */
function captureResponse(res: ServerResponse, opts: ResolvedHttpOptions): Promise<CapturedResponse> {
  return new Promise<CapturedResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Set once the response is known not to be shareable: joiners are released at that moment (to run
    // the handler themselves) instead of waiting for the leader to finish, and buffering stops.
    let released = false;
    let headersChecked = false;
    const release = (): void => {
      if (released) return;
      released = true;
      chunks.length = 0;
      resolve({ status: res.statusCode, headers: {}, body: Buffer.alloc(0), shareable: false });
    };
    const checkHeaders = (): void => {
      if (headersChecked) return;
      headersChecked = true;
      if (!isShareable({ ...res.getHeaders(), ...headHeaders }, opts.buildKey.coveredHeaders)) release();
    };
    const record = (chunk: unknown, encoding: unknown): void => {
      checkHeaders();
      if (released || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buffer =
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array);
      size += buffer.byteLength;
      if (size > opts.maxResponseBytes) release();
      else chunks.push(buffer);
    };
    const write = res.write;
    const end = res.end;
    const writeHead = res.writeHead;
    // Headers passed to writeHead() (without a setHeader() first) never reach getHeaders(): record them.
    let headHeaders: OutgoingHttpHeaders | undefined;
    res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
      const given = typeof rest[0] === 'string' ? rest[1] : rest[0];
      if (given !== undefined && given !== null) headHeaders = normalizeHeaders(given);
      const result = (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...rest);
      checkHeaders();
      return result;
    } as ServerResponse['writeHead'];
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      record(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      record(chunk, rest[0]);
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
    const restore = (): void => {
      res.write = write;
      res.end = end;
      res.writeHead = writeHead;
      res.off('finish', onFinish);
      res.off('close', onClose);
    };
    const onFinish = (): void => {
      restore();
      if (released) return;
      const headers: OutgoingHttpHeaders = { ...res.getHeaders(), ...headHeaders };
      resolve({
        status: res.statusCode,
        statusMessage: res.statusMessage,
        headers,
        body: Buffer.concat(chunks),
        shareable: isShareable(headers, opts.buildKey.coveredHeaders),
      });
    };
    const onClose = (): void => {
      restore();
      if (!released) reject(new Error('dedupMiddleware: the leading response closed before it finished'));
    };
    res.once('finish', onFinish);
    res.once('close', onClose);
  });
}

function replay(res: ServerResponse, captured: CapturedResponse): void {
  if (res.headersSent || res.destroyed) return;
  const headers = replayHeaders(captured.headers);
  if (captured.statusMessage) res.writeHead(captured.status, captured.statusMessage, headers);
  else res.writeHead(captured.status, headers);
  res.end(captured.body);
}

/** writeHead() takes headers as an object, `[[name, value], ...]` or `[name, value, ...]`. */
function normalizeHeaders(given: unknown): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (Array.isArray(given)) {
    const pairs: unknown[][] = Array.isArray(given[0])
      ? (given as unknown[][])
      : Array.from({ length: given.length >> 1 }, (_, i) => [given[2 * i], given[2 * i + 1]]);
    for (const [name, value] of pairs) {
      if (typeof name !== 'string') continue;
      const key = name.toLowerCase();
      const previous = out[key];
      const text = String(value);
      out[key] =
        previous === undefined ? text : [...(Array.isArray(previous) ? previous : [String(previous)]), text];
    }
  } else if (typeof given === 'object' && given !== null) {
    for (const [name, value] of Object.entries(given)) {
      if (value !== undefined) out[name.toLowerCase()] = value as OutgoingHttpHeaders[string];
    }
  }
  return out;
}
