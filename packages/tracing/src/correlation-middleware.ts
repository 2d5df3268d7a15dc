/** Correlation for node:http servers and Express/Connect-style `(req, res, next)` stacks. */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  const responseHeader = o.responseHeader;
  const serverSpan = o.serverSpan;
  return (req, res, next) => {
    const id = pickCorrelationId(req.headers, o);
    if (responseHeader && !res.headersSent) res.setHeader(responseHeader, id);
    // No SDK and no propagator: nothing to trace, only the correlation scope.
    if (tracingInactive()) {
      runWithCorrelation(id, next);
      return;
    }
    const scope = enterRequest(req.method, req.url, req.headers, id, serverSpan);
    if (scope.span) {
      (res as Tracked)[TRACED] = { span: scope.span, req };
      res.once('close', endTraced);
    }
    runWithCorrelation(id, () => context.with(scope.ctx, next));
  };
}

const TRACED = Symbol('@perf/tracing span');
type Tracked = ServerResponse & { [TRACED]?: { span: Span; req: IncomingMessage } };

// One shared listener, no closure per request. A response emits 'close' once (after 'finish'
// when it was sent); closed unfinished means the client went away first.
function endTraced(this: ServerResponse): void {
  const t = (this as Tracked)[TRACED];
  if (t === undefined) return;
  (this as Tracked)[TRACED] = undefined;
  // Express sets req.route once a route matched; its path is the low-cardinality name.
  const route = (t.req as IncomingMessage & { route?: { path?: unknown } }).route?.path;
  finishRequest(
    t.span,
    t.req.method,
    typeof route === 'string' ? route : undefined,
    this.statusCode,
    !this.writableFinished,
  );
}
