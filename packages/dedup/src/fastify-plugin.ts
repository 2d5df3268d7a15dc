/**
 * `fastifyDedup`: the Fastify plugin (tested with Fastify 5; it uses the `onRequestAbort` hook, Fastify >= 4.22). It imports nothing from fastify at runtime;
 * the structural types below are what it uses of Fastify's request, reply and instance.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  type CapturedResponse,
  type DedupHttpOptions,
  isShareable,
  keyOf,
  replayHeaders,
  resolveHttpOptions,
} from './http-response.js';

/** The parts of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** The parts of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  statusCode: number;
  getHeaders(): OutgoingHttpHeaders;
  code(status: number): FastifyReplyLike;
  headers(values: OutgoingHttpHeaders): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  // biome-ignore lint/suspicious/noExplicitAny: Fastify's hook signatures vary per hook name
  addHook(name: string, hook: (...args: any[]) => unknown): unknown;
}

interface Pending {
  resolve: (captured: CapturedResponse) => void;
  reject: (error: unknown) => void;
}

/**
 * Register with `app.register(fastifyDedup, options)`. Hooks apply to the whole instance (the plugin
 * opts out of encapsulation, as `fastify-plugin` would). Same behaviour and options as
 * `dedupMiddleware`; a streamed leader response is not shared (joiners run the handler). GET and HEAD
 * are deduplicated in `onRequest`; other listed methods in `preHandler`, once their body is parsed.
 *
 * @throws {PerfConfigError} naming the invalid option (reported through `done`).
 */
export function fastifyDedup(
  fastify: FastifyInstanceLike,
  options: DedupHttpOptions | undefined,
  done: (error?: Error) => void,
): void {
  let opts: ReturnType<typeof resolveHttpOptions>;
  try {
    opts = resolveHttpOptions('fastifyDedup', stripFastifyOptions(options));
  } catch (error) {
    done(error as Error);
    return;
  }
  const { deduplicator } = opts;
  const runOptions = opts.waitTimeoutMs === undefined ? undefined : { timeoutMs: opts.waitTimeoutMs };
  const pending = new WeakMap<object, Pending>();

  const dedupe = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
    const key = keyOf(opts, request);
    if (key === undefined) return;
    let led = false;
    const shared = deduplicator.run(
      key,
      () => {
        led = true;
        return new Promise<CapturedResponse>((resolve, reject) => pending.set(request, { resolve, reject }));
      },
      // A joiner's wait bound only: the leader's request is bounded by the in-flight limit.
      deduplicator.has(key) ? runOptions : undefined,
    );
    if (led) {
      shared.catch(() => {});
      return;
    }
    try {
      const captured = await shared;
      if (!captured.shareable) return; // run the handler for this joiner
      reply.code(captured.status).headers(replayHeaders(captured.headers));
      return reply.send(captured.body);
    } catch {
      return; // the leader failed or was cancelled: this joiner runs the handler itself
    }
  };
  // Bodiless requests as early as possible; requests with a body once it is parsed (it is in the key).
  fastify.addHook('onRequest', async (request: FastifyRequestLike, reply: FastifyReplyLike) =>
    isBodiless(request.method) ? dedupe(request, reply) : undefined,
  );
  fastify.addHook('preHandler', async (request: FastifyRequestLike, reply: FastifyReplyLike) =>
    isBodiless(request.method) ? undefined : dedupe(request, reply),
  );

  fastify.addHook(
    'onSend',
    async (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown) => {
      const waiting = pending.get(request);
      if (waiting !== undefined) {
        pending.delete(request);
        const headers = reply.getHeaders();
        const body =
          typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : undefined;
        const shareable =
          body !== undefined &&
          body.byteLength <= opts.maxResponseBytes &&
          isShareable(headers, opts.buildKey.coveredHeaders);
        waiting.resolve({ status: reply.statusCode, headers, body: body ?? Buffer.alloc(0), shareable });
      }
      return payload;
    },
  );

  const abandon = async (request: FastifyRequestLike) => {
    const waiting = pending.get(request);
    if (waiting !== undefined) {
      pending.delete(request);
      waiting.reject(new Error('fastifyDedup: the leading request ended without a response'));
    }
  };
  fastify.addHook('onResponse', abandon);
  fastify.addHook('onRequestAbort', abandon);
  done();
}

// Opt out of Fastify's encapsulation and name the plugin, the way `fastify-plugin` does.
Object.assign(fastifyDedup, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@perf/dedup',
});

/** Fastify passes its own register options (prefix, logLevel, ...) next to the plugin's. */
function stripFastifyOptions(options: DedupHttpOptions | undefined): DedupHttpOptions | undefined {
  if (options === undefined) return undefined;
  const { prefix: _p, logLevel: _l, logSerializers: _s, ...rest } = options as Record<string, unknown>;
  return rest as DedupHttpOptions;
}

function isBodiless(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
