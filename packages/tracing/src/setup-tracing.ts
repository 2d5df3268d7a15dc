/**
 * `setupTracing`: registers an OpenTelemetry Node tracer provider, synchronously, so spans flow
 * from the next line on (no `await`). The SDK packages are optional peers loaded with `require`.
 */
import {
  type ContextManager,
  context,
  diag,
  propagation,
  type TextMapPropagator,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { PerfConfigError } from '@perf/core';
import { forwardingProvider, setCurrentProvider } from './delegating-provider.js';
import { envBoolean, envFail, envHeaders, envTracesEndpoint, envValue } from './env.js';
import { samplerFromEnv } from './env-sampler.js';
import { TracingAlreadySetUpError } from './errors.js';
import {
  boundedProcessor,
  countingExporter,
  ExportCounters,
  type ExportStats,
  type SpanExporter,
  type SpanProcessorLike,
} from './export-pipeline.js';
import { createExporter, DEFAULT_OTLP_ENDPOINT, type ExporterName } from './exporters.js';
import { PooledIdGenerator } from './id-generator.js';
import { checkSetupOptions, type SetupTracingOptions } from './options.js';
import { loadPeers, SDK_PEERS } from './peers.js';
import { resourceAttributes } from './resource.js';
import type { PerfSampler, Sampler } from './samplers/perf-sampler.js';
import { defaultSampler } from './samplers/ratio.js';
import { countingSampler, type SamplingStats } from './samplers/sampling-counters.js';

/** What `setupTracing` returns. */
export interface TracingHandle {
  /** False when tracing was disabled (`enabled: false` or `OTEL_SDK_DISABLED=true`): nothing is exported. */
  readonly enabled: boolean;
  /** The `service.name` spans carry. */
  readonly serviceName: string | undefined;
  /** Exports every finished span now. Export failures are counted (`exportStats().failed`), not thrown. */
  forceFlush(): Promise<void>;
  /**
   * Flushes every finished span, stops background work (Jaeger poller, exporters' sockets) and
   * unregisters the provider, context manager and propagator, so `setupTracing` may be called
   * again. Idempotent: later calls return the same promise.
   */
  shutdown(): Promise<void>;
  /** Sampling decisions so far, per rule (`parent`, `ratio`, `rate-limit`, a rule's name...). */
  samplingStats(): SamplingStats;
  /** What became of sampled spans: exported, failed, dropped (queue full), pending. */
  exportStats(): ExportStats;
}

interface SdkModules {
  '@opentelemetry/sdk-trace-node': {
    NodeTracerProvider: new (config: {
      resource: unknown;
      sampler: Sampler;
      spanProcessors: SpanProcessorLike[];
      idGenerator: PooledIdGenerator;
    }) => TracerProvider & { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  };
  '@opentelemetry/sdk-trace-base': {
    BatchSpanProcessor: new (
      exporter: SpanExporter,
      config: {
        maxQueueSize: number;
        maxExportBatchSize: number;
        scheduledDelayMillis: number;
        exportTimeoutMillis: number;
      },
    ) => SpanProcessorLike;
  };
  '@opentelemetry/resources': { resourceFromAttributes: (attrs: Record<string, unknown>) => unknown };
  '@opentelemetry/core': {
    CompositePropagator: new (config: { propagators: TextMapPropagator[] }) => TextMapPropagator;
    W3CTraceContextPropagator: new () => TextMapPropagator;
    W3CBaggagePropagator: new () => TextMapPropagator;
  };
  '@opentelemetry/context-async-hooks': {
    AsyncLocalStorageContextManager: new () => ContextManager;
  };
}

const ACTIVE = Symbol.for('@perf/tracing/active');
type GlobalWithFlag = Record<symbol, { serviceName: string } | undefined>;

// The endpoint being down must not turn a graceful shutdown into a crash: the spans are counted
// as failed in exportStats() and the SDK's diag logger has the details.
function reportExportFailure(error: unknown): void {
  diag.warn('@perf/tracing: exporting spans failed', error);
}

const EMPTY_STATS: SamplingStats = { rules: {}, total: { sampled: 0, dropped: 0 } };

function disabledHandle(serviceName: string | undefined): TracingHandle {
  return {
    enabled: false,
    serviceName,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    samplingStats: () => structuredClone(EMPTY_STATS),
    exportStats: () => ({ exported: 0, failed: 0, dropped: 0, pending: 0 }),
  };
}

function exporterFromEnv(env: NodeJS.ProcessEnv): ExporterName | undefined {
  const name = envValue(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (name === undefined) return undefined;
  if (name === 'none' || name === 'console') return name;
  if (name !== 'otlp') envFail('OTEL_TRACES_EXPORTER', 'must be otlp, console or none', name);
  const protocolVar = envValue(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = envValue(env, protocolVar);
  if (protocol === undefined || protocol === 'http/json') return 'otlp';
  if (protocol === 'http/protobuf') return 'otlp-proto';
  return envFail(protocolVar, 'must be http/json or http/protobuf (grpc is not supported)', protocol);
}

/**
 * Registers the OpenTelemetry SDK for this process: a Node tracer provider with an
 * AsyncLocalStorage context manager, W3C trace-context and baggage propagators, a batch span
 * processor (bounded queue, drops counted), a resource with service, host and process
 * attributes, secret redaction, and the chosen exporter and sampler. Spans flow at once.
 *
 * @example
 * const tracing = setupTracing({ serviceName: 'chat' });
 * // ... serve; spans of @perf/cache, dedup and resilience now reach http://localhost:4318
 * process.on('SIGTERM', () => void tracing.shutdown());
 *
 * @throws {PerfConfigError} naming the bad option (or `env.OTEL_...` variable).
 * @throws {TracingAlreadySetUpError} when tracing is already set up (call `shutdown()` first),
 *   or another OpenTelemetry provider or context manager is registered.
 * @throws {TracingPeerMissingError} listing the OpenTelemetry packages to install.
 */
export function setupTracing(options: SetupTracingOptions): TracingHandle {
  const env = process.env;
  const o = checkSetupOptions(options);
  const serviceName = o.serviceName ?? envValue(env, 'OTEL_SERVICE_NAME');
  const enabled = o.enabled ?? !(envBoolean(env, 'OTEL_SDK_DISABLED') ?? false);
  if (!enabled) return disabledHandle(serviceName);
  if (serviceName === undefined) {
    throw new PerfConfigError('serviceName', 'is required (or set OTEL_SERVICE_NAME)', undefined, {
      owner: 'setupTracing',
    });
  }
  const g = globalThis as unknown as GlobalWithFlag;
  const active = g[ACTIVE];
  if (active) {
    throw new TracingAlreadySetUpError(
      `setupTracing: tracing is already set up for service "${active.serviceName}"; call shutdown() on its handle before setting it up again`,
    );
  }

  // Everything that can fail for a user's reason (options, env, peers) is checked before any
  // global is touched, so a failed call leaves nothing half-registered.
  const exporterChoice = o.exporter ?? exporterFromEnv(env) ?? 'otlp';
  const endpoint = o.endpoint ?? envTracesEndpoint(env) ?? DEFAULT_OTLP_ENDPOINT;
  const headers =
    o.headers ??
    envHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') ??
    envHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS') ??
    {};
  const sdk = loadPeers<SdkModules>('setupTracing', SDK_PEERS);
  const exporter =
    typeof exporterChoice === 'string'
      ? createExporter(exporterChoice, endpoint, headers, o.batch.exportTimeoutMs)
      : exporterChoice;
  const configured: Sampler =
    typeof o.sampler === 'number'
      ? defaultSampler(o.sampler)
      : (o.sampler ?? samplerFromEnv(env, serviceName) ?? defaultSampler(1));
  const counting = countingSampler(configured);

  const counters = new ExportCounters();
  const batch = new sdk['@opentelemetry/sdk-trace-base'].BatchSpanProcessor(
    countingExporter(exporter, counters, o.batch.exportTimeoutMs + 1_000),
    {
      maxQueueSize: o.batch.maxQueueSize,
      maxExportBatchSize: o.batch.maxExportBatchSize,
      scheduledDelayMillis: o.batch.scheduledDelayMs,
      exportTimeoutMillis: o.batch.exportTimeoutMs,
    },
  );
  const processor = boundedProcessor(batch, counters, o.batch.maxQueueSize, {
    attributes: new Set(o.redact.attributes),
    keys: o.redact.cacheKeys,
  });
  const resource = sdk['@opentelemetry/resources'].resourceFromAttributes(
    resourceAttributes(
      {
        serviceName,
        serviceVersion: o.serviceVersion ?? envValue(env, 'npm_package_version'),
        attributes: o.resource ?? {},
      },
      env,
    ),
  );
  const provider = new sdk['@opentelemetry/sdk-trace-node'].NodeTracerProvider({
    resource,
    sampler: counting.sampler,
    spanProcessors: [processor],
    idGenerator: new PooledIdGenerator(),
  });
  const core = sdk['@opentelemetry/core'];
  const propagator = new core.CompositePropagator({
    propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
  });
  const contextManager = new sdk['@opentelemetry/context-async-hooks'].AsyncLocalStorageContextManager();

  // Register: context manager first (a foreign one means another SDK owns this process).
  contextManager.enable();
  if (!context.setGlobalContextManager(contextManager)) {
    contextManager.disable();
    void provider.shutdown();
    throw new TracingAlreadySetUpError(
      'setupTracing: another OpenTelemetry context manager is registered (another SDK is set up in this process)',
    );
  }
  if (!trace.setGlobalTracerProvider(forwardingProvider)) {
    context.disable();
    void provider.shutdown();
    throw new TracingAlreadySetUpError(
      'setupTracing: another OpenTelemetry tracer provider is registered (another SDK is set up in this process)',
    );
  }
  propagation.setGlobalPropagator(propagator);
  setCurrentProvider(provider);
  g[ACTIVE] = { serviceName };
  const started: typeof o.instrumentations = [];
  try {
    for (const instrumentation of o.instrumentations) {
      instrumentation.setTracerProvider(forwardingProvider);
      instrumentation.enable();
      started.push(instrumentation);
    }
  } catch (error) {
    // Leave nothing half set up: undo the instrumentations enabled so far and every registration.
    for (const instrumentation of started) instrumentation.disable();
    setCurrentProvider(undefined);
    trace.disable();
    propagation.disable();
    context.disable();
    g[ACTIVE] = undefined;
    void provider.shutdown().catch(reportExportFailure);
    throw error;
  }

  let shutdownPromise: Promise<void> | undefined;
  return {
    enabled: true,
    serviceName,
    forceFlush: () => provider.forceFlush().catch(reportExportFailure),
    shutdown() {
      shutdownPromise ??= (async () => {
        for (const instrumentation of o.instrumentations) instrumentation.disable();
        (counting.sampler as PerfSampler).shutdown?.();
        // New spans become no-ops at once; the provider then flushes what already ended.
        setCurrentProvider(undefined);
        trace.disable();
        propagation.disable();
        context.disable();
        try {
          await provider.shutdown().catch(reportExportFailure);
        } finally {
          g[ACTIVE] = undefined;
        }
      })();
      return shutdownPromise;
    },
    samplingStats: counting.stats,
    exportStats: () => counters.snapshot(),
  };
}
