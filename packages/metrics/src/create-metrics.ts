/**
 * `createMetrics()`: the standard @perf metrics on a private prom-client registry, fed by the
 * `perf:*` diagnostics channels, with `/metrics`, HTTP RED middleware, sliding-window aggregates,
 * alerts and a live dashboard.
 */
import {
  type Clock,
  checkOptions,
  is,
  optional,
  PerfClosedError,
  PerfConfigError,
  systemClock,
  withDefault,
} from '@perf/core';
import { Registry } from 'prom-client';
import { Aggregates } from './aggregates.js';
import { AlertManager } from './alert-manager.js';
import type { AlertNotifier } from './alert-notifier.js';
import { type AlertRule, checkAlertRule } from './alert-rule.js';
import { BearerAuth } from './bearer-auth.js';
import { CoarseClock } from './coarse-clock.js';
import { Dashboard, type DashboardSnapshot } from './dashboard.js';
import { recordEvents } from './event-recorder.js';
import { type HttpMetricsOptions, HttpRecorder } from './http-red.js';
import { createMetricsHandler, type RequestHandler } from './metrics-handler.js';
import {
  type AnyRegistry,
  createRegistry,
  type ExpositionFormat,
  RegistryRenderer,
  type RenderTiming,
} from './render.js';
import type { GaugeFamily } from './series-family.js';
import { StandardMetrics } from './standard-metrics.js';

/** Default histogram buckets, in seconds (100 µs to 10 s). */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

export interface MetricsOptions<R extends AnyRegistry = AnyRegistry> {
  /**
   * The prom-client registry to register on. Default: a new private Prometheus-text registry (never
   * the global one); `registry.metrics()` then passes `promtool check metrics` and the registry can
   * be merged (`Registry.merge`) with prom-client's global one.
   */
  registry?: R;
  /** Prefix of every metric name. Default `perf_`. */
  prefix?: string;
  /** Distinct values each label of each metric may take before new ones become `__other__`. Default 100. */
  maxLabelValues?: number;
  /**
   * Label sets each metric may hold; past it, a new label set is recorded with every label
   * `__other__` (counted with `label="*"`). Default 10 000.
   */
  maxSeriesPerMetric?: number;
  /** Histogram buckets in seconds, ascending. Default 100 µs .. 10 s. */
  buckets?: readonly number[];
  /**
   * Attach the sampled trace id to histogram buckets; they appear in OpenMetrics output only.
   * Default: on for the default registry and for an OpenMetrics registry you pass, off for a
   * Prometheus-text registry you pass.
   */
  exemplars?: boolean;
  /**
   * Observe `perf:cache:operation` (the cache operation latency histogram and the dashboard's cache
   * rate and latency). A cache with that channel observed times every call and leaves its
   * synchronous L1 hit path, so turning this off makes an instrumented L1 hit much cheaper.
   * Default true.
   */
  cacheOperationLatency?: boolean;
  /** Require `Authorization: Bearer <token>` on `/metrics` and the dashboard. */
  token?: string;
  /** Yield to the event loop during a scrape whenever a slice ran this long. Default 10 ms. */
  scrapeSliceMs?: number;
  /** Time source for the sliding windows, alerts and dashboard (tests pass a `ManualClock`). Default `systemClock`. */
  clock?: Clock;
  alerts?: {
    /** Rules evaluated in process (see `AlertRule`; `loadAlertRules` reads them from a JSON file). */
    rules?: AlertRule[];
    /** Told when an alert fires or resolves. */
    notifiers?: AlertNotifier[];
    /** Default 5000 ms. */
    evaluateEveryMs?: number;
    /** Pending + firing alerts at most, over all rules. Default 1000. */
    maxAlerts?: number;
    /** Resolved alerts kept for `history()`. Default 100. */
    historySize?: number;
  };
  dashboard?: {
    /** Page title. Default `@perf dashboard`. */
    title?: string;
    /** How often streams get a snapshot. Default 1000 ms. */
    intervalMs?: number;
    /** Open streams at most; more get 503. Default 20. */
    maxClients?: number;
    /** Window of the request-rate charts. Default 10 s. */
    rateWindowMs?: number;
    /** Window of ratios and latency percentiles. Default 60 s. */
    ratioWindowMs?: number;
  };
}

const PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function windowMs(v: unknown, ctx: { field: string }): number {
  return typeof v === 'number' && v >= 1000 && v <= 15 * 60_000
    ? v
    : fail(ctx.field, 'a window between 1000 and 900000 ms', v);
}

const isRegistry = (v: unknown): v is AnyRegistry =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as AnyRegistry).getMetricsAsArray === 'function' &&
  typeof (v as AnyRegistry).registerMetric === 'function';

const isClock = (v: unknown) =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Clock).now === 'function' &&
  typeof (v as Clock).setTimeout === 'function';

const shape = {
  registry: optional((v, ctx) => (isRegistry(v) ? v : fail(ctx.field, 'a prom-client Registry', v))),
  prefix: withDefault(
    (v, ctx) =>
      typeof v === 'string' && PREFIX.test(v) ? v : fail(ctx.field, 'a Prometheus name prefix', v),
    'perf_',
  ),
  maxLabelValues: withDefault(is.positiveInteger, 100),
  maxSeriesPerMetric: withDefault(is.positiveInteger, 10_000),
  buckets: withDefault(
    (v, ctx) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > v[i - 1]))
        ? (v as number[])
        : fail(ctx.field, 'a non-empty ascending array of positive numbers', v),
    DEFAULT_BUCKETS,
  ),
  exemplars: optional(is.boolean),
  cacheOperationLatency: withDefault(is.boolean, true),
  token: optional(is.nonEmptyString),
  scrapeSliceMs: withDefault(is.positiveNumber, 10),
  clock: withDefault((v, ctx) => (isClock(v) ? (v as Clock) : fail(ctx.field, 'a Clock', v)), systemClock),
  alerts: withDefault(
    is.object({
      rules: withDefault(is.arrayOf(is.plainObject), []),
      notifiers: withDefault(
        is.arrayOf((v, ctx) =>
          typeof (v as AlertNotifier | null)?.notify === 'function'
            ? (v as AlertNotifier)
            : fail(ctx.field, 'a notifier (an object with notify())', v),
        ),
        [],
      ),
      evaluateEveryMs: withDefault(is.positiveNumber, 5000),
      maxAlerts: withDefault(is.positiveInteger, 1000),
      historySize: withDefault(is.nonNegativeInteger, 100),
    }),
    { rules: [], notifiers: [], evaluateEveryMs: 5000, maxAlerts: 1000, historySize: 100 },
  ),
  dashboard: withDefault(
    is.object({
      title: withDefault(is.nonEmptyString, '@perf dashboard'),
      intervalMs: withDefault(is.positiveNumber, 1000),
      maxClients: withDefault(is.positiveInteger, 20),
      rateWindowMs: withDefault(windowMs, 10_000),
      ratioWindowMs: withDefault(windowMs, 60_000),
    }),
    {
      title: '@perf dashboard',
      intervalMs: 1000,
      maxClients: 20,
      rateWindowMs: 10_000,
      ratioWindowMs: 60_000,
    },
  ),
};

function fail(field: string, mustBe: string, value: unknown): never {
  throw new PerfConfigError(field, `must be ${mustBe}`, value, { owner: 'createMetrics' });
}

/** What `createMetrics` returns. */
export class Metrics<R extends AnyRegistry = AnyRegistry> {
  /**
   * The prom-client registry holding every @perf metric: yours, or a private Prometheus-text one
   * (typed as such, so `Registry.merge([metrics.registry, register])` type-checks).
   */
  readonly registry: R;
  /** Sliding-window rates, ratios and quantiles (1 s slots, up to 15 minutes). */
  readonly aggregates: Aggregates;
  /**
   * `GET /metrics` as a node:http handler (usable as Express middleware): Prometheus text, or
   * OpenMetrics when the `Accept` header prefers it; 401 without the bearer token when one is set.
   */
  readonly handler: RequestHandler;
  /**
   * The live dashboard as a node:http handler: the HTML page, its Server-Sent Events stream (same
   * URL, `Accept: text/event-stream`) and `?format=json` snapshots. Mount it at any path.
   */
  readonly dashboard: RequestHandler;
  /** Alert rules, their pending/firing alerts, and `evaluate()`. */
  readonly alerts: AlertManager;
  readonly prefix: string;
  readonly #dashboard: Dashboard;
  readonly #std: StandardMetrics;
  readonly #renderer: RegistryRenderer;
  readonly #http: HttpRecorder;
  readonly #unsubscribe: () => void;
  readonly #coarse: CoarseClock | undefined;
  #closed = false;

  /** @internal use `createMetrics()` */
  constructor(options: MetricsOptions<R> | undefined) {
    const o = checkOptions('createMetrics', options, shape);
    // Prometheus text by default: `registry.metrics()` is then what Prometheus and promtool read
    // (HELP/TYPE named like the samples), and the registry merges with prom-client's global one.
    // The handler still serves OpenMetrics, exemplars included, to scrapers that ask for it.
    const registry = (o.registry ?? createRegistry(Registry.PROMETHEUS_CONTENT_TYPE)) as R;
    const omRegistry = registry.contentType === Registry.OPENMETRICS_CONTENT_TYPE;
    const exemplars = o.exemplars ?? (o.registry === undefined || omRegistry);
    o.alerts.rules.forEach((r, i) => {
      checkAlertRule(r, `alerts.rules[${i}]`, 'createMetrics');
    });
    this.registry = registry;
    this.prefix = o.prefix;
    // With the real clock, events read a coarse clock (a field read instead of Date.now()).
    const coarse = o.clock === systemClock ? new CoarseClock() : undefined;
    this.#coarse = coarse;
    const clock: Clock = coarse ?? o.clock;
    let aggregates: Aggregates | undefined;
    let alertManager: AlertManager | undefined;
    const before = new Set<unknown>(registry.getMetricsAsArray());
    try {
      this.#std = new StandardMetrics({
        registry,
        prefix: o.prefix,
        maxValuesPerLabel: o.maxLabelValues,
        maxSeries: o.maxSeriesPerMetric,
        buckets: o.buckets,
        exemplars,
        now: () => clock.now(),
        collectHitRatio: (gauge) => collectHitRatio(gauge, aggregates),
        collectAlerts: (gauge) => collectAlerts(gauge, alertManager),
      });
    } catch (error) {
      coarse?.stop();
      // Take back the families registered before the clash, so a failed call leaves nothing behind.
      for (const metric of registry.getMetricsAsArray()) {
        if (!before.has(metric)) registry.removeSingleMetric(metric.name);
      }
      throw new PerfConfigError(
        'registry',
        'must not already hold metrics with these names (use another prefix or registry)',
        registry,
        { owner: 'createMetrics', cause: error },
      );
    }
    aggregates = new Aggregates(this.#std, clock);
    this.aggregates = aggregates;
    this.#renderer = new RegistryRenderer(registry, o.scrapeSliceMs);
    this.#http = new HttpRecorder(this.#std, clock, exemplars);
    const auth = new BearerAuth(o.token);
    this.handler = createMetricsHandler(this.#renderer, auth, () => this.#closed);
    alertManager = new AlertManager({
      aggregates,
      clock,
      rules: o.alerts.rules as unknown as AlertRule[],
      notifiers: o.alerts.notifiers,
      evaluateEveryMs: o.alerts.evaluateEveryMs,
      maxAlerts: o.alerts.maxAlerts,
      historySize: o.alerts.historySize,
    });
    this.alerts = alertManager;
    this.#dashboard = new Dashboard(aggregates, this.alerts, clock, auth, o.dashboard);
    this.dashboard = this.#dashboard.handler;
    this.#unsubscribe = recordEvents(
      this.#std,
      clock,
      exemplars,
      new Set(o.cacheOperationLatency ? [] : ['perf:cache:operation' as const]),
    );
  }

  /** What the dashboard streams right now. */
  dashboardSnapshot(): DashboardSnapshot {
    return this.#dashboard.snapshot();
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The whole registry in one exposition format (what `handler` serves).
   * @throws {PerfClosedError} after `close()`.
   */
  async render(format: ExpositionFormat = 'prometheus'): Promise<string> {
    if (this.#closed) throw new PerfClosedError('Metrics is closed');
    return this.#renderer.render(format);
  }

  /** Wall time and longest event-loop block of the latest render. */
  get lastRenderTiming(): RenderTiming {
    return this.#renderer.lastTiming;
  }

  /**
   * HTTP RED middleware for node:http and Express: `app.use(metrics.httpMiddleware())`.
   * @throws {PerfConfigError} for a bad option.
   */
  httpMiddleware(options?: HttpMetricsOptions): RequestHandler {
    const o = checkOptions('httpMiddleware', options, {
      route: optional(is.function),
      ignore: optional(is.function),
    });
    return this.#http.middleware(o as HttpMetricsOptions);
  }

  /**
   * A Fastify plugin recording HTTP RED metrics by route template: `app.register(metrics.fastifyPlugin())`.
   * @throws {PerfConfigError} for a bad option.
   */
  fastifyPlugin(options?: Pick<HttpMetricsOptions, 'ignore'>) {
    const o = checkOptions('fastifyPlugin', options, { ignore: optional(is.function) });
    return this.#http.fastifyPlugin(o as Pick<HttpMetricsOptions, 'ignore'>);
  }

  /** Unsubscribes from every channel, stops timers and streams, and removes the metrics from the registry. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#http.stop();
    this.#dashboard.close();
    await this.alerts.close();
    this.#coarse?.stop();
    this.#std.unregister(this.registry);
  }
}

function collectAlerts(gauge: GaugeFamily, alerts: AlertManager | undefined): void {
  if (!alerts) return;
  for (const s of gauge.all()) gauge.set(s, 0);
  for (const a of alerts.active()) {
    const s = gauge.s2(a.name, a.state);
    gauge.set(s, s.value + 1);
  }
}

function collectHitRatio(gauge: GaugeFamily, aggregates: Aggregates | undefined): void {
  if (!aggregates) return;
  const ratios = aggregates.ratio(
    { signal: 'cache_lookups', match: { result: 'hit' } },
    { signal: 'cache_lookups' },
    60_000,
    ['namespace', 'tier'],
  );
  for (const r of ratios) gauge.set(gauge.s2(r.labels.namespace ?? '', r.labels.tier ?? ''), r.value);
}

/**
 * Creates the metrics for every @perf service in this process and subscribes to their events.
 * @throws {PerfConfigError} naming the bad option, or `registry` when it already holds these metric names.
 */
export function createMetrics<R extends AnyRegistry = Registry>(options?: MetricsOptions<R>): Metrics<R> {
  return new Metrics<R>(options);
}
