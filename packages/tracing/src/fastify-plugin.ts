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
  raw: { writableFinished: boolean };
}

interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (error?: Error) => void) => void,
  ): unknown;
  addHook(
    name: 'onResponse',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void,
  ): unknown;
  addHook(name: 'onRequestAbort', hook: (request: FastifyRequestLike, done: () => void) => void): unknown;
}

const spans = new WeakMap<object, Span>();

/**
 * Fastify plugin: register once on the root instance.
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
  fastify.addHook('onRequest', (request, reply, next) => {
    const id = pickCorrelationId(request.headers, o);
    if (o.responseHeader) reply.header(o.responseHeader, id);
    const scope = enterRequest(request.method, request.url, request.headers, id, o.serverSpan);
    if (scope.span) spans.set(request, scope.span);
    // The rest of the request's lifecycle continues from `next`, inside both stores.
    runWithCorrelation(id, () => context.with(scope.ctx, () => next()));
  });
  fastify.addHook('onResponse', (request, reply, next) => {
    const span = spans.get(request);
    if (span) {
      spans.delete(request);
      finishRequest(span, request.method, request.routeOptions?.url, reply.statusCode, false);
    }
    next();
  });
  // A client that goes away before the reply gets no onResponse: end its span here, as an error.
  fastify.addHook('onRequestAbort', (request, next) => {
    const span = spans.get(request);
    if (span) {
      spans.delete(request);
      finishRequest(span, request.method, request.routeOptions?.url, 0, true);
    }
    next();
  });
  done();
}

// Fastify's own marker (what fastify-plugin sets): hooks apply to the whole app, not a child scope.
Object.assign(correlationPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@perf/tracing correlation',
});
