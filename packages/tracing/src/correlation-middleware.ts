/** Correlation for node:http servers and Express/Connect-style `(req, res, next)` stacks. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { runWithCorrelation } from './correlation.js';
import {
  type CorrelationOptions,
  enterRequest,
  finishRequest,
  pickCorrelationId,
  resolveCorrelationOptions,
} from './server-span.js';

/** A Connect/Express middleware; also usable from a plain `http.createServer` handler. */
export type CorrelationMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Takes the request's `x-correlation-id` / `x-request-id` (validated: 1-128 chars of
 * `[A-Za-z0-9._:-/+=@]`, otherwise a fresh UUID), keeps it for everything the request runs
 * (`correlationId()`), sets it on the response header and on the active span. Without an HTTP
 * instrumentation it also starts the SERVER span continuing the caller's `traceparent`.
 *
 * @example
 * const correlate = correlationMiddleware();
 * http.createServer((req, res) => correlate(req, res, () => handle(req, res)));
 * @throws {PerfConfigError} naming the bad option.
 */
export function correlationMiddleware(options?: CorrelationOptions): CorrelationMiddleware {
  const o = resolveCorrelationOptions('correlationMiddleware', options);
  return (req, res, next) => {
    const id = pickCorrelationId(req.headers, o);
    if (o.responseHeader && !res.headersSent) res.setHeader(o.responseHeader, id);
    const scope = enterRequest(req.method, req.url, req.headers, id, o.serverSpan);
    if (scope.span) {
      const span = scope.span;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        // Express sets req.route once a route matched; its path is the low-cardinality name.
        const route = (req as IncomingMessage & { route?: { path?: unknown } }).route?.path;
        finishRequest(
          span,
          req.method,
          typeof route === 'string' ? route : undefined,
          res.statusCode,
          !res.writableFinished,
        );
      };
      res.once('finish', finish);
      res.once('close', finish);
    }
    runWithCorrelation(id, () => context.with(scope.ctx, () => next()));
  };
}
