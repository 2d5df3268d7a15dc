/**
 * Correlation for Fastify 5: the same behaviour as `correlationMiddleware()`, as a plugin that
 * applies to the whole app (not encapsulated). Typed structurally, so this package needs no
 * `fastify` import: `app.register(correlationPlugin, { ... })`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { context, type Span } from '@opentelemetry/api';
import { runWithCorrelation } from './correlation.js';
import {
  type CorrelationOptions,
  enterRequest,
  finishRequest,
  pickCorrelationId,
  resolveCorrelationOptions,
  tracingInactive,
} from './server-span.js';

interface FastifyRequestLike {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  routeOptions?: { url?: string };
}

interface FastifyReplyLike {
  statusCode: number;
  header(name: string, value: string): unknown;
  raw: RawReply;
}

interface RawReply {
  statusCode: number;
  writableFinished: boolean;
  once(event: 'close', listener: (this: RawReply) => void): unknown;
}

interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (error?: Error) => void) => void,
  ): unknown;
}

/** What a traced request's response needs to end its span. */
interface Traced {
  span: Span;
  request: FastifyRequestLike;
}
const TRACED = Symbol('@perf/tracing span');

// One shared listener (no closure per request). A response emits 'close' once, after 'finish'
// when it was sent; closed unfinished means the client went away first: an error, status 0.
function endTraced(this: RawReply): void {
  const t = (this as RawReply & { [TRACED]?: Traced })[TRACED];
  if (t === undefined) return;
  (this as RawReply & { [TRACED]?: Traced })[TRACED] = undefined;
  const finished = this.writableFinished;
  finishRequest(
    t.span,
    t.request.method,
    t.request.routeOptions?.url,
    finished ? this.statusCode : 0,
    !finished,
  );
}

/**
 * Fastify plugin: register once on the root instance.
 * One callback-style onRequest hook and nothing else: while no SDK is registered a request costs
 * its id, the response header and one AsyncLocalStorage scope; with one, a SERVER span whose end
 * rides the raw response's 'close'.
 * @throws {PerfConfigError} (at register time) naming the bad option.
 */
export function correlationPlugin(
  fastify: FastifyInstanceLike,
  options: CorrelationOptions | undefined,
  done: (error?: Error) => void,
): void {
  let o: ReturnType<typeof resolveCorrelationOptions>;
  try {
    // Fastify passes {} when no options were given; it may also add its own keys in future.
    o = resolveCorrelationOptions('correlationPlugin', { ...(options ?? {}) });
  } catch (error) {
    done(error as Error);
    return;
  }
  const responseHeader = o.responseHeader;
  const serverSpan = o.serverSpan;
  fastify.addHook('onRequest', (request, reply, next) => {
    const id = pickCorrelationId(request.headers, o);
    if (responseHeader) reply.header(responseHeader, id);
    // The rest of the request's lifecycle continues from `next`, inside the store(s).
    if (tracingInactive()) {
      runWithCorrelation(id, next);
      return;
    }
    const scope = enterRequest(request.method, request.url, request.headers, id, serverSpan);
    if (scope.span) {
      (reply.raw as RawReply & { [TRACED]?: Traced })[TRACED] = { span: scope.span, request };
      reply.raw.once('close', endTraced);
    }
    runWithCorrelation(id, () => context.with(scope.ctx, next));
  });
  done();
}

// Fastify's own marker (what fastify-plugin sets): hooks apply to the whole app, not a child scope.
Object.assign(correlationPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@perf/tracing correlation',
});
