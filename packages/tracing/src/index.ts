export {
  CORRELATION_ATTRIBUTE,
  CORRELATION_HEADER,
  CORRELATION_HEADERS,
  correlationId,
  correlationIdFromHeaders,
  createCorrelationId,
  isValidCorrelationId,
  MAX_CORRELATION_ID_LENGTH,
  withCorrelation,
} from './correlation.js';
export { type CorrelationMiddleware, correlationMiddleware } from './correlation-middleware.js';
export {
  isTracingAlreadySetUpError,
  isTracingPeerMissingError,
  TracingAlreadySetUpError,
  TracingErrorCodes,
  TracingPeerMissingError,
} from './errors.js';
export type { ExportResult, ExportStats, ReadableSpanLike, SpanExporter } from './export-pipeline.js';
export { DEFAULT_OTLP_ENDPOINT, EXPORTER_NAMES, type ExporterName } from './exporters.js';
export { correlationPlugin } from './fastify-plugin.js';
export { type LogCorrelationFields, logCorrelation, pinoMixin } from './log-mixin.js';
export type { InstrumentationLike, SetupTracingOptions } from './options.js';
export { PEER_VERSIONS } from './peers.js';
export { propagatingFetch, propagatingRequest, traceHeaders } from './propagation.js';
export { KEY_ATTRIBUTES, type KeyMode, REDACTED } from './redaction.js';
export {
  type JaegerRemoteSampler,
  type JaegerRemoteSamplerOptions,
  jaegerRemoteSampler,
} from './samplers/jaeger-remote.js';
export {
  Decision,
  type PerfSampler,
  type RuledDecision,
  type Sampler,
  type SamplingResult,
} from './samplers/perf-sampler.js';
export { type RateLimitingSamplerOptions, rateLimitingSampler } from './samplers/rate-limiting.js';
export {
  defaultSampler,
  type ParentBasedOptions,
  parentBasedSampler,
  traceIdRatioSampler,
} from './samplers/ratio.js';
export {
  type Matcher,
  type RuleBasedSamplerOptions,
  ruleBasedSampler,
  type SamplingRule,
} from './samplers/rule-based.js';
export {
  type RuleCounts,
  SAMPLING_CHANNEL,
  type SamplingDecisionEvent,
  type SamplingStats,
} from './samplers/sampling-counters.js';
export type { CorrelationOptions } from './server-span.js';
export { setupTracing, type TracingHandle } from './setup-tracing.js';
export { VERSION } from './version.js';
