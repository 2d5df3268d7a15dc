export { Aggregates, type AggregateValue, MAX_WINDOW_MS, type Selector } from './aggregates.js';
export { AlertManager, type AlertManagerStats } from './alert-manager.js';
export {
  type Alert,
  type AlertLogger,
  type AlertNotification,
  type AlertNotifier,
  type AlertState,
  callbackNotifier,
  logNotifier,
} from './alert-notifier.js';
export {
  type AlertExpression,
  type AlertRule,
  type CheckedAlertRule,
  type CheckedExpression,
  type ComparisonOperator,
  checkAlertRule,
  type Duration,
  type SelectorInput,
} from './alert-rule.js';
export { loadAlertRules, parseAlertRules } from './alert-rules-file.js';
export { OTHER_LABEL_VALUE } from './cardinality-guard.js';
export { createMetrics, DEFAULT_BUCKETS, Metrics, type MetricsOptions } from './create-metrics.js';
export type { DashboardSnapshot, LatencySummary } from './dashboard.js';
export { formatDuration, parseDuration } from './duration.js';
export { type HttpMetricsOptions, UNMATCHED_ROUTE } from './http-red.js';
export type { RequestHandler } from './metrics-handler.js';
export { type PrometheusRulesOptions, toPrometheusRules, toPromQL } from './prometheus-rules.js';
export { type AnyRegistry, type ExpositionFormat, negotiateFormat, type RenderTiming } from './render.js';
export {
  type CounterSignal,
  type GaugeSignal,
  type HistogramSignal,
  metricName,
  type Signal,
} from './standard-metrics.js';
export { VERSION } from './version.js';
export {
  type WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookNotifierStats,
  webhookNotifier,
} from './webhook-notifier.js';
