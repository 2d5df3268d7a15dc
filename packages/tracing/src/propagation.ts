/**
 * Outbound propagation: a `fetch` wrapper and a node:http(s) request helper that continue the
 * current trace in the service they call (W3C `traceparent`, `tracestate`, `baggage`) and pass the
 * correlation id on. Each call gets a CLIENT span when the current trace is sampled.
 */
import http from 'node:http';
import https from 'node:https';
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { PerfConfigError } from '@perf/core';
import { CORRELATION_HEADER, correlationId } from './correlation.js';

const tracer = trace.getTracer('@perf/tracing');

/**
 * The headers that continue the active trace and correlation in another service:
 * `traceparent` (+ `tracestate`, `baggage` when present) and `x-correlation-id`.
 * Pass `ctx` to inject another context than the active one.
 */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  const id = correlationId();
  if (id !== undefined) out[CORRELATION_HEADER] = id;
  return out;
}

function startClientSpan(method: string, url: URL): Span | undefined {
  const parent = trace.getActiveSpan();
  // No recording parent: this call is not part of a sampled trace, so no span objects are made.
  if (!parent?.isRecording()) return undefined;
  return tracer.startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': method,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'url.full': `${url.origin}${url.pathname}`, // no query string: it often holds tokens
    },
  });
}

const ended = new WeakSet<Span>();

function endClientSpan(span: Span | undefined, status: number | undefined, error?: unknown): void {
  if (span === undefined || ended.has(span)) return; // a response error after its end, say
  ended.add(span);
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  } else if (status !== undefined && status >= 400) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  }
  span.end();
}

/**
 * Wraps `fetch` (default the global one, i.e. undici) so every call carries the trace and
 * correlation headers. Headers the caller set win over injected ones.
 * @example const fetch = propagatingFetch(); await fetch('http://orders/api');
 * @throws {PerfConfigError} when `fetchImpl` is not a function.
 */
export function propagatingFetch(fetchImpl: typeof fetch = globalThis.fetch): typeof fetch {
  if (typeof fetchImpl !== 'function') {
    throw new PerfConfigError('fetchImpl', 'must be a fetch function', fetchImpl, {
      owner: 'propagatingFetch',
    });
  }
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const span = startClientSpan(method, url);
    const ctx = span ? trace.setSpan(context.active(), span) : context.active();
    const headers = new Headers(request?.headers);
    for (const [k, v] of new Headers(init?.headers)) headers.set(k, v);
    for (const [k, v] of Object.entries(traceHeaders(ctx))) if (!headers.has(k)) headers.set(k, v);
    try {
      const res = await context.with(ctx, () => fetchImpl(request ?? input, { ...init, headers }));
      endClientSpan(span, res.status);
      return res;
    } catch (error) {
      endClientSpan(span, undefined, error);
      throw error;
    }
  };
}

/**
 * `http.request` / `https.request` (by the URL's protocol) with the trace and correlation headers
 * added and a CLIENT span ended when the response ends or the request fails. Use it like
 * `http.request`: write the body, then `req.end()`.
 * @throws {PerfConfigError} when `url` is not an http(s) URL.
 */
export function propagatingRequest(
  url: string | URL,
  options: http.RequestOptions = {},
  callback?: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const u =
    typeof url === 'string' && URL.canParse(url) ? new URL(url) : url instanceof URL ? url : undefined;
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new PerfConfigError('url', 'must be an http(s) URL', url, { owner: 'propagatingRequest' });
  }
  const method = (options.method ?? 'GET').toUpperCase();
  const span = startClientSpan(method, u);
  const ctx = span ? trace.setSpan(context.active(), span) : context.active();
  const headers: http.OutgoingHttpHeaders = { ...traceHeaders(ctx) };
  for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
  const mod = u.protocol === 'https:' ? https : http;
  const req = context.with(ctx, () =>
    mod.request(u, { ...options, method, headers }, (res) => {
      res.once('end', () => endClientSpan(span, res.statusCode));
      res.once('error', (error) => endClientSpan(span, res.statusCode, error));
      callback?.(res);
    }),
  );
  req.once('error', (error) => endClientSpan(span, undefined, error));
  return req;
}
