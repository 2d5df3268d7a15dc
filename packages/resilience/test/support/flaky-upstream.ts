/**
 * A real HTTP upstream on 127.0.0.1 that fails on command: `ok` answers 200 after `latencyMs`,
 * `fail` answers 503, `hang` never answers (until the client gives up). Counts every request that
 * reached it, per mode, so tests can prove a breaker kept traffic away during an outage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type UpstreamMode = 'ok' | 'fail' | 'hang';

export interface FlakyUpstream {
  url: string;
  mode: UpstreamMode;
  /** Requests that reached the server, by the mode it was in. */
  hits: Record<UpstreamMode, number>;
  close(): Promise<void>;
}

export async function startFlakyUpstream(latencyMs = 0): Promise<FlakyUpstream> {
  const hits: Record<UpstreamMode, number> = { ok: 0, fail: 0, hang: 0 };
  const state = { mode: 'ok' as UpstreamMode };
  const server: Server = createServer((req, res) => {
    const mode = state.mode;
    hits[mode]++;
    req.resume();
    if (mode === 'hang') return;
    const answer = () => {
      if (mode === 'fail') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream down');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1,"text":"hello world"}');
      }
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    get mode() {
      return state.mode;
    },
    set mode(mode: UpstreamMode) {
      state.mode = mode;
    },
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An error carrying the HTTP status, as a typical client would throw. */
export class HttpError extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

/** GETs `url` with `signal`, throwing `HttpError` on a non-2xx answer. */
export async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { signal });
  if (!res.ok) {
    await res.body?.cancel();
    throw new HttpError(res.status);
  }
  return res.json();
}
