/**
 * The request-scoped part shared by the node:http/Express middleware and the Fastify plugin:
 * pick the correlation id, continue the caller's trace (W3C `traceparent`/`baggage`) with a SERVER
 * span when no HTTP instrumentation made one already, and stamp the id on the active span.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  type Context,
  context,
  ProxyTracerProvider,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { check, checkOptions, is, optional, withDefault } from '@perf/core';
import {
  CORRELATION_ATTRIBUTE,
  CORRELATION_HEADER,
  CORRELATION_HEADERS,
  correlationIdFromHeaders,
  createCorrelationId,
  isValidCorrelationId,
} from './correlation.js';
import { forwardingProvider, hasCurrentProvider } from './delegating-provider.js';

/** Options of `correlationMiddleware()` and the Fastify plugin. */
export interface CorrelationOptions {
  /** Request headers an incoming id is taken from, in order. Default `x-correlation-id`, `x-request-id`. */
  headers?: string[];
  /** Response header that carries the id back; `false` sets none. Default `x-correlation-id`. */
  responseHeader?: string | false;
  /** Makes a fresh id. Default UUID v4. Its result must be a valid id. */
  generate?: () => string;
  /** Accept ids sent by clients (validated). Default true; false always makes a fresh id. */
  trustIncoming?: boolean;
  /**
   * Start a SERVER span continuing the caller's trace when none is active (no HTTP
   * instrumentation installed). Default true. A no-op while no SDK is registered.
   */
  serverSpan?: boolean;
}

export interface ResolvedCorrelationOptions {
  headers: string[];
  responseHeader: string | false;
  generate: () => string;
  trustIncoming: boolean;
  serverSpan: boolean;
}

const headerName = check<string>(
  (v) => typeof v === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v),
  'an HTTP header name',
);

export function resolveCorrelationOptions(owner: string, input: unknown): ResolvedCorrelationOptions {
  const o = checkOptions(owner, input, {
    headers: withDefault(is.arrayOf(headerName), [...CORRELATION_HEADERS]),
    responseHeader: withDefault(
      is.anyOf<[typeof headerName, ReturnType<typeof is.oneOf<[false]>>]>(
        'an HTTP header name or false',
        headerName,
        is.oneOf(false),
      ),
      CORRELATION_HEADER,
    ),
    generate: optional(is.function),
    trustIncoming: withDefault(is.boolean, true),
    serverSpan: withDefault(is.boolean, true),
  });
  return {
    headers: o.headers.map((h) => h.toLowerCase()),
    responseHeader: o.responseHeader as string | false,
    generate: (o.generate as (() => string) | undefined) ?? createCorrelationId,
    trustIncoming: o.trustIncoming,
    serverSpan: o.serverSpan,
  };
}

/** The id for this request: a valid incoming one, else a fresh one (checked, so a bad generator shows). */
export function pickCorrelationId(headers: IncomingHttpHeaders, o: ResolvedCorrelationOptions): string {
  const incoming = o.trustIncoming ? correlationIdFromHeaders(headers, o.headers) : undefined;
  if (incoming) return incoming;
  const fresh = o.generate();
  // A UUID is always valid; only a user's generator needs checking.
  if (o.generate !== createCorrelationId && !isValidCorrelationId(fresh)) {
    throw new TypeError(
      `@perf/tracing: the correlation id generator returned an invalid id: ${String(fresh)}`,
    );
  }
  return fresh;
}

const tracer = trace.getTracer('@perf/tracing');

const headerGetter = {
  get: (carrier: IncomingHttpHeaders, key: string) => carrier[key],
  keys: (carrier: IncomingHttpHeaders) => Object.keys(carrier),
};

// The API's no-op provider: what a fresh proxy (one that never got a delegate) hands out.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True when no tracer provider and no propagator are registered (or only @perf/tracing's own
 * provider, after `shutdown()`): then a SERVER span would be a no-op and there is no trace to
 * continue, so a request needs only its correlation scope. Checked per request (a few property
 * reads), so an SDK registered after the server started is picked up. Another copy of the API
 * reads as "registered", which only costs the slow path.
 */
export function tracingInactive(): boolean {
  const global = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
  if (provider !== NOOP_PROVIDER && (provider !== forwardingProvider || hasCurrentProvider())) return false;
  return propagation.fields().length === 0;
}

/** What a request runs in, and how to finish its span. */
export interface RequestScope {
  ctx: Context;
  span: Span | undefined;
}

/**
 * Builds the context a request runs in: the active span (or a new SERVER span continuing the
 * caller's trace) carries the correlation id attribute.
 */
export function enterRequest(
  method: string | undefined,
  path: string | undefined,
  headers: IncomingHttpHeaders,
  id: string,
  serverSpan: boolean,
): RequestScope {
  const active = trace.getActiveSpan();
  if (active) {
    active.setAttribute(CORRELATION_ATTRIBUTE, id);
    return { ctx: context.active(), span: undefined };
  }
  if (!serverSpan) return { ctx: context.active(), span: undefined };
  const parent = propagation.extract(context.active(), headers, headerGetter);
  const m = (method ?? 'GET').toUpperCase();
  const span = tracer.startSpan(
    m,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': m,
        'url.path': (path ?? '/').split('?')[0] ?? '/',
        [CORRELATION_ATTRIBUTE]: id,
      },
    },
    parent,
  );
  return { ctx: trace.setSpan(parent, span), span };
}

/** Ends a span made by `enterRequest`: name `METHOD route`, status code, error on 5xx. */
export function finishRequest(
  span: Span | undefined,
  method: string | undefined,
  route: string | undefined,
  status: number,
  aborted: boolean,
): void {
  if (span === undefined) return;
  const m = (method ?? 'GET').toUpperCase();
  if (route) {
    span.updateName(`${m} ${route}`);
    span.setAttribute('http.route', route);
  }
  if (status > 0) span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  else if (aborted) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
  span.end();
}
