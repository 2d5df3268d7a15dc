/**
 * HTTP RED metrics (rate, errors, duration) for node:http / Express and Fastify. Labels are the
 * method, the route template and the status class; never the raw path, so ids in URLs cannot blow
 * up the series count.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Clock } from '@perf/core';
import { sampledTraceId } from './exemplar.js';
import type { StandardMetrics } from './standard-metrics.js';

/** The route label for requests no route matched (404s, static files without a template). */
export const UNMATCHED_ROUTE = '__unmatched__';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);

export interface HttpMetricsOptions {
  /**
   * Returns the route template of a request (e.g. `/users/:id`), or `undefined` when none matched.
   * Defaults to Express's `req.baseUrl + req.route.path`; plain node:http servers should pass one.
   */
  route?: (req: IncomingMessage) => string | undefined;
  /** Requests to leave out, e.g. the `/metrics` scrape itself. */
  ignore?: (req: IncomingMessage) => boolean;
}

/** Labels for one finished request. */
export function methodLabel(method: string | undefined): string {
  const m = (method ?? '').toUpperCase();
  return METHODS.has(m) ? m : 'OTHER';
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'unknown';
}

/** Express's own route template, when the request went through an Express route. */
export function expressRoute(req: IncomingMessage): string | undefined {
  const r = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: unknown };
  const path = r.route?.path;
  if (typeof path !== 'string') return undefined;
  const base = typeof r.baseUrl === 'string' ? r.baseUrl : '';
  return base + path === '' ? '/' : base + path;
}

export class HttpRecorder {
  readonly #std: StandardMetrics;
  readonly #clock: Clock;
  readonly #exemplars: boolean;

  constructor(std: StandardMetrics, clock: Clock, exemplars: boolean) {
    this.#std = std;
    this.#clock = clock;
    this.#exemplars = exemplars;
  }

  /** The trace id to use as exemplar for a request starting now. */
  traceId(): string | undefined {
    return this.#exemplars ? sampledTraceId() : undefined;
  }

  #stopped = false;

  /** Stops recording (after `metrics.close()` the middleware only passes requests on). */
  stop(): void {
    this.#stopped = true;
  }

  /** Records one request. */
  record(
    method: string | undefined,
    route: string | undefined,
    status: string,
    seconds: number,
    traceId?: string,
  ) {
    if (this.#stopped) return;
    const now = this.#clock.now();
    const m = methodLabel(method);
    const r = route || UNMATCHED_ROUTE;
    this.#std.counters.http_requests.s3(m, r, status).add(1, now);
    const h = this.#std.histograms.http_request_duration;
    h.observe(h.s3(m, r, status), seconds, now, traceId);
  }

  /** Connect/Express-style middleware `(req, res, next)` that records each request when it ends. */
  middleware(options: HttpMetricsOptions = {}) {
    const routeOf = options.route ?? expressRoute;
    const ignore = options.ignore;
    return (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
      if (!ignore?.(req)) {
        const start = performance.now();
        const traceId = this.traceId();
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          res.off('finish', finish);
          res.off('close', finish);
          const status = res.writableFinished ? statusClass(res.statusCode) : 'aborted';
          this.record(req.method, routeOf(req), status, (performance.now() - start) / 1000, traceId);
        };
        res.on('finish', finish);
        res.on('close', finish);
      }
      next?.();
    };
  }

  /**
   * A Fastify plugin (register it with `app.register(plugin)`): `onRequest`/`onResponse` hooks that
   * label by `request.routeOptions.url`. Marked to skip Fastify's encapsulation, so it sees every route.
   */
  fastifyPlugin(options: Pick<HttpMetricsOptions, 'ignore'> = {}) {
    const started = new WeakMap<object, { start: number; traceId: string | undefined }>();
    const ignore = options.ignore;
    const plugin = (fastify: FastifyLike, _opts: unknown, done: (error?: Error) => void) => {
      fastify.addHook('onRequest', (request: FastifyRequestLike, _reply: unknown, next: () => void) => {
        if (!ignore?.(request.raw))
          started.set(request, { start: performance.now(), traceId: this.traceId() });
        next();
      });
      fastify.addHook(
        'onResponse',
        (request: FastifyRequestLike, reply: { statusCode: number }, next: () => void) => {
          const s = started.get(request);
          if (s) {
            started.delete(request);
            const route = request.is404 ? undefined : (request.routeOptions?.url ?? undefined);
            this.record(
              request.method,
              route,
              statusClass(reply.statusCode),
              (performance.now() - s.start) / 1000,
              s.traceId,
            );
          }
          next();
        },
      );
      done();
    };
    Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
    Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: '@perf/metrics' });
    return plugin;
  }
}

/** The parts of Fastify the plugin touches (Fastify itself is not imported at runtime). */
export interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => void): unknown;
}

export interface FastifyRequestLike {
  raw: IncomingMessage;
  method: string;
  is404?: boolean;
  routeOptions?: { url?: string | undefined };
}
