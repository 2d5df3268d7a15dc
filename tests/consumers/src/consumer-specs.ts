import { join } from 'node:path';
import { repoRoot } from '../../../tooling/pack-packages.js';

/** What a user of one package alone gets: its main API, what it must bring, a consumer file for tsc. */
export interface ConsumerSpec {
  name: string;
  dir: string;
  /** Exports that must load through both `import` and `require`. */
  api: readonly string[];
  /** Packages that must be in its installed tree. */
  brings: readonly string[];
  /** A file using the main API, type-checked by the consumer's tsc (`cjs`: a .cts file). */
  consumerSource(format: 'esm' | 'cjs'): string;
}

const pkg = (dir: string): string => join(repoRoot, 'packages', dir);
const exported = (format: 'esm' | 'cjs'): string => (format === 'esm' ? 'export {};\n' : '');

export const consumerSpecs: readonly ConsumerSpec[] = [
  {
    name: '@perf/core',
    dir: pkg('core'),
    api: ['PerfConfigError', 'checkOptions', 'hashKey', 'isPerfConfigError', 'subscribeAll'],
    brings: [],
    consumerSource: (
      format,
    ) => `import { checkOptions, hashKey, is, isPerfConfigError, withDefault } from '@perf/core';
const key: string = hashKey({ user: 1 });
const opts: { timeoutMs: number } = checkOptions('consumer', {}, { timeoutMs: withDefault(is.positiveNumber, 1000) });
const guard: (e: unknown) => boolean = isPerfConfigError;
console.log(key, opts.timeoutMs, guard);
${exported(format)}`,
  },
  {
    name: '@perf/dedup',
    dir: pkg('dedup'),
    api: ['Deduplicator', 'createRequestKey', 'dedupMiddleware'],
    brings: ['@perf/core'],
    consumerSource: (format) => `import { createRequestKey, Deduplicator } from '@perf/dedup';
const dedup = new Deduplicator({ name: 'consumer', timeoutMs: 1000 });
const value: Promise<number> = dedup.run('k', async (signal: AbortSignal) => (signal.aborted ? 0 : 1));
const key: string = createRequestKey({ method: 'GET', url: '/x' });
const leaders: number = dedup.stats().leaders;
console.log(value, key, leaders);
${exported(format)}`,
  },
  {
    name: '@perf/cache',
    dir: pkg('cache'),
    api: ['createCache'],
    brings: ['@perf/core', '@perf/dedup', 'ioredis'],
    consumerSource: (format) => `import { createCache } from '@perf/cache';
const cache = createCache({ namespace: 'consumer', l1: { maxEntries: 10 } });
const value: Promise<number> = cache.getOrSet('k', async () => 1, { ttlMs: 1000, tags: ['t'] });
const rate: number = cache.stats().hitRate;
const closed: Promise<void> = cache.close();
console.log(value, rate, closed);
${exported(format)}`,
  },
  {
    name: '@perf/resilience',
    dir: pkg('resilience'),
    api: ['createCircuitBreaker', 'isBrokenCircuitError'],
    brings: ['@perf/core', 'cockatiel'],
    consumerSource: (
      format,
    ) => `import { createCircuitBreaker, isBrokenCircuitError } from '@perf/resilience';
const breaker = createCircuitBreaker({ name: 'consumer', failureThreshold: 3, timeoutMs: 100 });
const value: Promise<number> = breaker.execute(async (signal: AbortSignal) => (signal.aborted ? 0 : 1));
const state: 'closed' | 'open' | 'half-open' | 'isolated' = breaker.state;
const guard: (e: unknown) => boolean = isBrokenCircuitError;
console.log(value, state, guard);
${exported(format)}`,
  },
  {
    name: '@perf/metrics',
    dir: pkg('metrics'),
    api: ['createMetrics', 'toPrometheusRules'],
    brings: ['@perf/core', 'prom-client'],
    consumerSource: (format) => `import { createMetrics } from '@perf/metrics';
const metrics = createMetrics();
const handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = metrics.handler;
const closed: Promise<void> = metrics.close();
console.log(handler, closed);
${exported(format)}`,
  },
  {
    name: '@perf/tracing',
    dir: pkg('tracing'),
    api: [
      'VERSION',
      'correlationId',
      'correlationMiddleware',
      'propagatingFetch',
      'setupTracing',
      'withCorrelation',
    ],
    brings: ['@perf/core'],
    consumerSource: (
      format,
    ) => `import { correlationId, correlationMiddleware, setupTracing, VERSION, withCorrelation } from '@perf/tracing';
import type { TracingHandle } from '@perf/tracing';
const version: string = VERSION;
const id: string | undefined = withCorrelation('c-1', () => correlationId());
const middleware = correlationMiddleware();
const setup: (options: { serviceName: string; exporter?: 'console' }) => TracingHandle = setupTracing;
console.log(version, id, middleware, setup);
${exported(format)}`,
  },
];

/** The versions the Node-20 OpenTelemetry SDK works at (the workspace's pins), by package. */
const OTEL_PINS: Record<string, string> = {
  '@opentelemetry/api': '~1.9.0',
  '@opentelemetry/sdk-trace-node': '2.12.1',
  '@opentelemetry/sdk-trace-base': '2.12.1',
  '@opentelemetry/resources': '2.12.1',
  '@opentelemetry/core': '2.12.1',
  '@opentelemetry/context-async-hooks': '2.12.1',
  '@opentelemetry/semantic-conventions': '1.45.0',
  '@opentelemetry/exporter-trace-otlp-http': '0.223.1',
  '@opentelemetry/exporter-trace-otlp-proto': '0.223.1',
};

/** `name@pin` for each OpenTelemetry peer @perf/tracing declares (unknown ones at its own range). */
export function tracingPeerPins(peers: Record<string, string>): string[] {
  return Object.entries(peers)
    .filter(([name]) => name.startsWith('@opentelemetry/'))
    .map(([name, range]) => `${name}@${OTEL_PINS[name] ?? range}`);
}
