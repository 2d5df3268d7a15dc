/**
 * Jaeger remote sampling through `@opentelemetry/sampler-jaeger-remote`, behind a wrapper that
 * fixes what that sampler (0.222.0) gets wrong for a server process:
 * - it first polls only after one interval: we poll once at start;
 * - its `setInterval` is neither kept nor unref'd, so a process using it never exits: we clear it
 *   at construction and run our own unref'd timer, stopped by `shutdown()`;
 * - it knows only string strategy types: we also accept Jaeger's numeric ones (0 probabilistic,
 *   1 rate limiting) and serve rate limiting ourselves;
 * - while the endpoint is down (or answers garbage) we sample with the configured fallback.
 * Probabilistic and per-operation strategies are turned into samplers by the package itself.
 */
import { diag } from '@opentelemetry/api';
import { checkOptions, is, optional, PerfConfigError, withDefault } from '@perf/core';
import { loadPeers } from '../peers.js';
import { type PerfSampler, perfSampler, type Sampler } from './perf-sampler.js';
import { rateLimitingSampler } from './rate-limiting.js';
import { defaultSampler, parentBasedSampler, traceIdRatioSampler } from './ratio.js';
import { ruleBasedSampler } from './rule-based.js';

/** Options of `jaegerRemoteSampler`. */
export interface JaegerRemoteSamplerOptions {
  /** Base URL of the sampling service, e.g. `http://localhost:5778` (we GET `<endpoint>/sampling?service=`). */
  endpoint: string;
  /** Service whose strategy to ask for. Default `OTEL_SERVICE_NAME` (pass it when that is unset). */
  serviceName?: string;
  /** How often to poll after the first poll at start. Default 60 000 ms. */
  pollingIntervalMs?: number;
  /** Bound of one poll. Default 5 000 ms. */
  requestTimeoutMs?: number;
  /** Sampler used before the first answer and while the endpoint is down. Default parent-based, keep all. */
  fallback?: Sampler;
}

/** The Jaeger remote sampler, plus its state for tests and health checks. */
export interface JaegerRemoteSampler extends PerfSampler {
  /** Polls now; resolves true when a strategy was applied, false when the fallback is in use. */
  refresh(): Promise<boolean>;
  /** `remote` once a strategy was applied, `fallback` before and while the endpoint is down. */
  readonly source: 'remote' | 'fallback';
  /** Number of polls that failed (network, HTTP status, bad JSON). */
  readonly failures: number;
  shutdown(): void;
}

interface SamplerModule {
  JaegerRemoteSampler: new (config: {
    endpoint: string;
    serviceName?: string;
    poolingInterval: number;
    initialSampler: Sampler;
  }) => Sampler & { convertSamplingResponseToSampler?: (config: unknown) => Sampler };
}

interface Strategy {
  strategyType?: unknown;
  probabilisticSampling?: { samplingRate?: unknown };
  rateLimitingSampling?: { maxTracesPerSecond?: unknown };
  operationSampling?: {
    defaultSamplingProbability?: unknown;
    perOperationStrategies?: { operation?: unknown; probabilisticSampling?: { samplingRate?: unknown } }[];
  };
}

const owner = 'jaegerRemoteSampler';

/** Builds the package's sampler without letting its interval live (it is never stored by the package). */
function constructQuietly(
  mod: SamplerModule,
  config: ConstructorParameters<SamplerModule['JaegerRemoteSampler']>[0],
) {
  const realSetInterval = globalThis.setInterval;
  const captured: ReturnType<typeof setInterval>[] = [];
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const t = realSetInterval(...args);
    captured.push(t);
    return t;
  }) as typeof setInterval;
  try {
    return new mod.JaegerRemoteSampler(config);
  } finally {
    globalThis.setInterval = realSetInterval;
    for (const t of captured) clearInterval(t);
  }
}

function normalizeType(t: unknown): 'PROBABILISTIC' | 'RATE_LIMITING' | undefined {
  if (t === 0 || t === 'PROBABILISTIC') return 'PROBABILISTIC';
  if (t === 1 || t === 'RATE_LIMITING' || t === 'RATELIMITING') return 'RATE_LIMITING';
  return undefined;
}

const isRate = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/**
 * A sampler driven by a Jaeger sampling endpoint. Polls once at construction, then every
 * `pollingIntervalMs` on an unref'd timer; `shutdown()` stops it.
 * @throws {PerfConfigError} naming the bad option.
 * @throws {TracingPeerMissingError} when `@opentelemetry/sampler-jaeger-remote` is not installed.
 */
export function jaegerRemoteSampler(options: JaegerRemoteSamplerOptions): JaegerRemoteSampler {
  const o = checkOptions(owner, options, {
    endpoint: (v, ctx) => {
      const s = is.nonEmptyString(v, ctx);
      if (!URL.canParse(s) || !/^https?:$/.test(new URL(s).protocol)) {
        throw new PerfConfigError(ctx.field, 'must be an http(s) URL', v, { owner });
      }
      return s.replace(/\/+$/, '');
    },
    serviceName: optional(is.nonEmptyString),
    pollingIntervalMs: withDefault(is.delayMs, 60_000),
    requestTimeoutMs: withDefault(is.delayMs, 5_000),
    fallback: optional((v, ctx) => {
      if (typeof (v as Sampler | null)?.shouldSample !== 'function') {
        throw new PerfConfigError(ctx.field, 'must be a Sampler', v, { owner });
      }
      return v as Sampler;
    }),
  });
  const mod = loadPeers<{ '@opentelemetry/sampler-jaeger-remote': SamplerModule }>('jaegerRemoteSampler', [
    '@opentelemetry/sampler-jaeger-remote',
  ])['@opentelemetry/sampler-jaeger-remote'];
  const fallback = o.fallback ?? defaultSampler(1);
  const serviceName = o.serviceName ?? (process.env.OTEL_SERVICE_NAME || undefined);
  const delegate = constructQuietly(mod, {
    endpoint: o.endpoint,
    ...(serviceName ? { serviceName } : {}),
    poolingInterval: o.pollingIntervalMs,
    initialSampler: fallback,
  });

  let remote: Sampler | undefined;
  let failures = 0;
  let stopped = false;
  let inFlight: AbortController | undefined;

  const convert = (s: Strategy): Sampler => {
    const ops = s.operationSampling;
    if (ops && Array.isArray(ops.perOperationStrategies) && ops.perOperationStrategies.length > 0) {
      if (!isRate(ops.defaultSamplingProbability)) throw new Error('bad defaultSamplingProbability');
      if (typeof delegate.convertSamplingResponseToSampler === 'function') {
        return delegate.convertSamplingResponseToSampler(s);
      }
      return ruleBasedSampler({
        rules: ops.perOperationStrategies.map((p, i) => ({
          name: `operation-${i}`,
          spanName: String(p.operation),
          sample: Number(p.probabilisticSampling?.samplingRate ?? 0),
        })),
        fallback: traceIdRatioSampler(ops.defaultSamplingProbability),
      });
    }
    switch (normalizeType(s.strategyType)) {
      case 'PROBABILISTIC': {
        const rate = s.probabilisticSampling?.samplingRate;
        if (!isRate(rate)) throw new Error('bad probabilisticSampling.samplingRate');
        if (typeof delegate.convertSamplingResponseToSampler === 'function') {
          return delegate.convertSamplingResponseToSampler({ ...s, strategyType: 'PROBABILISTIC' });
        }
        return traceIdRatioSampler(rate);
      }
      case 'RATE_LIMITING': {
        const n = s.rateLimitingSampling?.maxTracesPerSecond;
        if (typeof n !== 'number' || !(n >= 0))
          throw new Error('bad rateLimitingSampling.maxTracesPerSecond');
        return n === 0
          ? traceIdRatioSampler(0)
          : rateLimitingSampler({ tracesPerSecond: n, perSpanName: false });
      }
      default:
        throw new Error(`unknown strategyType ${JSON.stringify(s.strategyType)}`);
    }
  };

  const refresh = async (): Promise<boolean> => {
    if (stopped) return false;
    const controller = new AbortController();
    inFlight = controller;
    const timer = setTimeout(() => controller.abort(), o.requestTimeoutMs);
    timer.unref();
    try {
      const url = `${o.endpoint}/sampling?service=${encodeURIComponent(serviceName ?? '')}`;
      const res = await fetch(url, { signal: controller.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const next = convert((await res.json()) as Strategy);
      if (stopped) return false;
      remote = next;
      return true;
    } catch (error) {
      failures++;
      remote = undefined; // the endpoint is down or broken: the fallback decides until it answers
      diag.warn(`@perf/tracing: Jaeger remote sampling poll failed, using the fallback sampler`, error);
      return false;
    } finally {
      clearTimeout(timer);
      if (inFlight === controller) inFlight = undefined;
    }
  };

  const interval = setInterval(() => void refresh(), o.pollingIntervalMs);
  interval.unref();
  void refresh();

  const root = perfSampler(`JaegerRemote{${o.endpoint}}`, (ctx, id, name, kind, attrs, links) =>
    remote
      ? { result: remote.shouldSample(ctx, id, name, kind, attrs, links), rule: 'jaeger-remote' }
      : { result: fallback.shouldSample(ctx, id, name, kind, attrs, links), rule: 'jaeger-fallback' },
  );
  const outer = parentBasedSampler({ root });
  return {
    decide: outer.decide,
    shouldSample: outer.shouldSample,
    toString: () => `JaegerRemote{${o.endpoint}, ${remote ? 'remote' : 'fallback'}}`,
    refresh,
    get source() {
      return remote ? 'remote' : 'fallback';
    },
    get failures() {
      return failures;
    },
    shutdown() {
      stopped = true;
      clearInterval(interval);
      inFlight?.abort();
    },
  };
}
