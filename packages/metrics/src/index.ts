export { Aggregates, type AggregateValue, MAX_WINDOW_MS, type Selector } from './aggregates.js';
export { OTHER_LABEL_VALUE } from './cardinality-guard.js';
export { createMetrics, DEFAULT_BUCKETS, Metrics, type MetricsOptions } from './create-metrics.js';
export { formatDuration, parseDuration } from './duration.js';
export { type HttpMetricsOptions, UNMATCHED_ROUTE } from './http-red.js';
export type { RequestHandler } from './metrics-handler.js';
export { type ExpositionFormat, negotiateFormat, type RenderTiming } from './render.js';
export {
  type CounterSignal,
  type GaugeSignal,
  type HistogramSignal,
  metricName,
  type Signal,
} from './standard-metrics.js';
export { VERSION } from './version.js';
