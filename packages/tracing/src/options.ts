/** The options of `setupTracing`, their checks and defaults. */
import type { AttributeValue } from '@opentelemetry/api';
import { type Check, check, checkOptions, is, optional, PerfConfigError, withDefault } from '@perf/core';
import type { SpanExporter } from './export-pipeline.js';
import { EXPORTER_NAMES, type ExporterName } from './exporters.js';
import type { KeyMode } from './redaction.js';
import type { Sampler } from './samplers/perf-sampler.js';

/** An auto-instrumentation (`@opentelemetry/instrumentation-*`, `@fastify/otel`...): what we call on it. */
export interface InstrumentationLike {
  setTracerProvider(provider: unknown): void;
  enable(): void;
  disable(): void;
}

/** Options of `setupTracing`. Every field can be omitted when its `OTEL_*` variable is set. */
export interface SetupTracingOptions {
  /** `service.name` of every span. Required unless `OTEL_SERVICE_NAME` is set (the option wins). */
  serviceName?: string;
  /** `service.version`. Default `npm_package_version` when run by a package manager. */
  serviceVersion?: string;
  /**
   * Where spans go: `otlp` (OTLP/HTTP JSON, default), `otlp-proto` (OTLP/HTTP protobuf),
   * `console`, `none`, or any OpenTelemetry `SpanExporter`. Default `OTEL_TRACES_EXPORTER`, else `otlp`.
   */
  exporter?: ExporterName | SpanExporter;
  /** Full OTLP traces URL. Default `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`. */
  endpoint?: string;
  /** Headers of every OTLP request (e.g. an API key). Default `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS`. */
  headers?: Record<string, string>;
  /** A sampler, or a ratio in [0, 1] for parent-based trace-id ratio. Default `OTEL_TRACES_SAMPLER`, else parent-based keep-all. */
  sampler?: Sampler | number;
  /** Extra resource attributes (win over `OTEL_RESOURCE_ATTRIBUTES`). */
  resource?: Record<string, AttributeValue>;
  /** Batch span processor bounds. */
  batch?: {
    /** Spans held at most, queued or being exported; more are dropped and counted. Default 2048. */
    maxQueueSize?: number;
    /** Spans per export request. Default 512 (at most `maxQueueSize`). */
    maxExportBatchSize?: number;
    /** Delay between exports. Default 5 000 ms. */
    scheduledDelayMs?: number;
    /** Bound of one export request. Default 30 000 ms. */
    exportTimeoutMs?: number;
  };
  /** Secrets on spans. Authorization, cookie and set-cookie headers are always redacted. */
  redact?: {
    /** More attribute keys whose values become `[REDACTED]`. */
    attributes?: string[];
    /** Cache and dedup keys on spans: `hash` (default), `redact`, or `show`. */
    cacheKeys?: KeyMode;
  };
  /** Auto-instrumentations to enable with this provider, disabled again by `shutdown()`. */
  instrumentations?: InstrumentationLike[];
  /** `false` sets nothing up (a no-op handle). Default: not `OTEL_SDK_DISABLED=true`. */
  enabled?: boolean;
}

const owner = 'setupTracing';

const isHttpUrl = check<string>(
  (v) => typeof v === 'string' && URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
  'an http(s) URL',
);

export const isSpanExporter = (v: unknown): v is SpanExporter =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SpanExporter).export === 'function' &&
  typeof (v as SpanExporter).shutdown === 'function';

const isAttributeValue = (v: unknown): v is AttributeValue => {
  const scalar = (x: unknown) =>
    typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
  return scalar(v) || (Array.isArray(v) && v.every((x) => x == null || scalar(x)));
};

function recordOf<T>(guard: (v: unknown) => v is T, mustBe: string) {
  return (value: unknown, ctx: { owner: string; field: string }): Record<string, T> => {
    const obj = is.plainObject(value, ctx);
    for (const [k, v] of Object.entries(obj)) {
      if (!guard(v)) throw new PerfConfigError(`${ctx.field}.${k}`, `must be ${mustBe}`, v, { owner });
    }
    return obj as Record<string, T>;
  };
}

export function checkSetupOptions(input: unknown) {
  const o = checkOptions(owner, input, {
    serviceName: optional(is.nonEmptyString),
    serviceVersion: optional(is.nonEmptyString),
    exporter: optional(
      is.anyOf<[ReturnType<typeof is.oneOf<typeof EXPORTER_NAMES>>, Check<SpanExporter>]>(
        `one of ${EXPORTER_NAMES.map((n) => `"${n}"`).join(', ')} or a SpanExporter`,
        is.oneOf(...EXPORTER_NAMES),
        check<SpanExporter>(isSpanExporter, 'a SpanExporter'),
      ),
    ),
    endpoint: optional(isHttpUrl),
    headers: optional(recordOf((v): v is string => typeof v === 'string', 'a string')),
    sampler: optional(
      is.anyOf<[typeof is.ratio, Check<Sampler>]>(
        'a Sampler or a number between 0 and 1',
        is.ratio,
        check<Sampler>((v) => typeof (v as Sampler | null)?.shouldSample === 'function', 'a Sampler'),
      ),
    ),
    resource: optional(recordOf(isAttributeValue, 'a string, number, boolean or array of them')),
    batch: withDefault(
      is.object({
        maxQueueSize: withDefault(is.positiveInteger, 2048),
        maxExportBatchSize: withDefault(is.positiveInteger, 512),
        scheduledDelayMs: withDefault(is.delayMs, 5_000),
        exportTimeoutMs: withDefault(is.delayMs, 30_000),
      }),
      { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 5_000, exportTimeoutMs: 30_000 },
    ),
    redact: withDefault(
      is.object({
        attributes: withDefault(is.arrayOf(is.nonEmptyString), [] as string[]),
        cacheKeys: withDefault(is.oneOf('hash', 'redact', 'show'), 'hash' as KeyMode),
      }),
      { attributes: [] as string[], cacheKeys: 'hash' as KeyMode },
    ),
    instrumentations: withDefault(
      is.arrayOf(
        check<InstrumentationLike>(
          (v) =>
            typeof v === 'object' &&
            v !== null &&
            ['setTracerProvider', 'enable', 'disable'].every(
              (m) => typeof (v as Record<string, unknown>)[m] === 'function',
            ),
          'an instrumentation (with setTracerProvider, enable and disable)',
        ),
      ),
      [] as InstrumentationLike[],
    ),
    enabled: optional(is.boolean),
  });
  if (o.batch.maxExportBatchSize > o.batch.maxQueueSize) {
    throw new PerfConfigError(
      'batch.maxExportBatchSize',
      `must be at most batch.maxQueueSize (${o.batch.maxQueueSize})`,
      o.batch.maxExportBatchSize,
      { owner },
    );
  }
  return o;
}
