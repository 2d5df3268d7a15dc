/** `GET /metrics`: content negotiation, optional bearer token, one render at a time. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerAuth } from './bearer-auth.js';
import { CONTENT_TYPES, negotiateFormat, type RegistryRenderer } from './render.js';

/** A node:http request handler that also works as Express middleware. */
export type RequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

export function createMetricsHandler(
  renderer: RegistryRenderer,
  auth: BearerAuth,
  isClosed: () => boolean,
): RequestHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('Method Not Allowed\n');
      return;
    }
    if (!auth.allows(req)) {
      res
        .writeHead(401, {
          'www-authenticate': 'Bearer realm="metrics"',
          'content-type': 'text/plain; charset=utf-8',
        })
        .end('Unauthorized\n');
      return;
    }
    if (isClosed()) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('Metrics closed\n');
      return;
    }
    const accept = req.headers.accept;
    const format = negotiateFormat(Array.isArray(accept) ? accept.join(',') : accept);
    renderer.render(format).then(
      (body) => {
        if (res.destroyed) return;
        res.writeHead(200, {
          'content-type': CONTENT_TYPES[format],
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
          vary: 'Accept',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        if (res.destroyed) return;
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`Failed to collect metrics: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
}
