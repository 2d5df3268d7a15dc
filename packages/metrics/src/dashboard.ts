/**
 * `metrics.dashboard`: the HTML page, its Server-Sent Events stream (same URL, chosen by
 * `Accept: text/event-stream`, which is what EventSource sends) and a JSON snapshot (`?format=json`).
 * One timer feeds every open stream and stops when the last one closes; streams are bounded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '@perf/core';
import type { Aggregates, AggregateValue } from './aggregates.js';
import type { AlertManager } from './alert-manager.js';
import type { AlertState } from './alert-notifier.js';
import type { BearerAuth } from './bearer-auth.js';
import { dashboardPage } from './dashboard-page.js';
import type { RequestHandler } from './metrics-handler.js';

/** Latency quantiles in milliseconds (`null` when nothing was observed in the window). */
export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** What each SSE message carries. */
export interface DashboardSnapshot {
  t: number;
  /** Events per second over the rate window. */
  rates: { http: number; cache: number; dedup: number; breaker: number };
  /** followers / all dedup calls over the ratio window. */
  dedupRatio: number | null;
  hitRatio: { l1: number | null; l2: number | null; l3: number | null; overall: number | null };
  latency: { http: LatencySummary; cache: LatencySummary };
  breakers: Array<{ name: string; state: string }>;
  alerts: Array<{ name: string; state: AlertState; labels: Record<string, string>; value: number }>;
}

export interface DashboardOptions {
  intervalMs: number;
  maxClients: number;
  title: string;
  rateWindowMs: number;
  ratioWindowMs: number;
}

export class Dashboard {
  readonly #aggregates: Aggregates;
  readonly #alerts: AlertManager;
  readonly #clock: Clock;
  readonly #auth: BearerAuth;
  readonly #o: DashboardOptions;
  readonly #clients = new Set<ServerResponse>();
  readonly #page: string;
  #timer: TimerHandle | undefined;
  #closed = false;
  readonly handler: RequestHandler;

  constructor(
    aggregates: Aggregates,
    alerts: AlertManager,
    clock: Clock,
    auth: BearerAuth,
    o: DashboardOptions,
  ) {
    this.#aggregates = aggregates;
    this.#alerts = alerts;
    this.#clock = clock;
    this.#auth = auth;
    this.#o = o;
    this.#page = dashboardPage(o.title);
    this.handler = (req, res) => this.#handle(req, res);
  }

  /** Open SSE streams. */
  get clients(): number {
    return this.#clients.size;
  }

  snapshot(): DashboardSnapshot {
    const a = this.#aggregates;
    const rw = this.#o.rateWindowMs;
    const qw = this.#o.ratioWindowMs;
    const total = (v: AggregateValue[]) => v.reduce((s, x) => s + x.value, 0);
    const one = (v: AggregateValue[]) => (v.length > 0 ? v[0]!.value : null);
    const hits = a.ratio(
      { signal: 'cache_lookups', match: { result: 'hit' } },
      { signal: 'cache_lookups' },
      qw,
      ['tier'],
    );
    const tier = (t: string) => hits.find((h) => h.labels.tier === t)?.value ?? null;
    const latency = (signal: 'http_request_duration' | 'cache_operation_duration'): LatencySummary => {
      const q = (p: number) => {
        const v = one(a.quantile({ signal }, p, qw));
        return v === null ? null : v * 1000;
      };
      return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
    };
    const breakers = a
      .value({ signal: 'breaker_state' }, ['name', 'state'])
      .filter((b) => b.value === 1)
      .map((b) => ({ name: b.labels.name ?? '', state: b.labels.state ?? '' }));
    return {
      t: this.#clock.now(),
      rates: {
        http: total(a.rate({ signal: 'http_requests' }, rw)),
        // Operations when observed; else L1 lookups (every read asks L1 first).
        cache:
          total(a.rate({ signal: 'cache_operation_duration' }, rw)) ||
          total(a.rate({ signal: 'cache_lookups', match: { tier: 'l1' } }, rw)),
        dedup: total(a.rate({ signal: 'dedup_requests' }, rw)),
        breaker: total(a.rate({ signal: 'breaker_calls' }, rw)),
      },
      dedupRatio: one(
        a.ratio({ signal: 'dedup_requests', match: { role: 'follower' } }, { signal: 'dedup_requests' }, qw),
      ),
      hitRatio: {
        l1: tier('l1'),
        l2: tier('l2'),
        l3: tier('l3'),
        overall: overallHitRatio(a, qw),
      },
      latency: { http: latency('http_request_duration'), cache: latency('cache_operation_duration') },
      breakers,
      alerts: this.#alerts
        .active()
        .map((x) => ({ name: x.name, state: x.state, labels: { ...x.labels }, value: x.value })),
    };
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (!this.#auth.allows(req, true)) {
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="dashboard"', 'content-type': 'text/plain' })
        .end('Unauthorized\n');
      return;
    }
    if (this.#closed) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('Dashboard closed\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const accept = String(req.headers.accept ?? '');
    if (accept.includes('text/event-stream')) {
      this.#stream(req, res);
      return;
    }
    if (url.searchParams.get('format') === 'json') {
      const body = JSON.stringify(this.snapshot());
      res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
        .end(body);
      return;
    }
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      })
      .end(req.method === 'HEAD' ? undefined : this.#page);
  }

  #stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= this.#o.maxClients) {
      res
        .writeHead(503, { 'retry-after': '5', 'content-type': 'text/plain' })
        .end('Too many dashboard streams\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${Math.max(1000, this.#o.intervalMs)}\n\n`);
    this.#clients.add(res);
    const drop = () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0 && this.#timer) {
        this.#clock.clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
    req.on('close', drop);
    res.on('close', drop);
    this.#send(res, this.snapshot());
    this.#tick();
  }

  #tick(): void {
    if (this.#timer || this.#closed || this.#clients.size === 0) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#clients.size === 0) return;
      const snap = this.snapshot();
      for (const res of this.#clients) this.#send(res, snap);
      this.#tick();
    }, this.#o.intervalMs);
  }

  #send(res: ServerResponse, snap: DashboardSnapshot): void {
    if (!res.writableEnded) res.write(`event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`);
  }
}

function overallHitRatio(a: Aggregates, windowMs: number): number | null {
  const answered = a.increase({ signal: 'cache_operation_duration', match: { operation: 'get' } }, windowMs, [
    'result',
  ]);
  let hit = 0;
  let all = 0;
  for (const g of answered) {
    all += g.value;
    if (g.labels.result === 'l1' || g.labels.result === 'l2' || g.labels.result === 'l3') hit += g.value;
  }
  return all > 0 ? hit / all : null;
}
