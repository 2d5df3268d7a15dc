import { describe } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';

describe('@perf/metrics as shipped (dist/ through package exports)', () => {
  smokeTestBuiltPackage(new URL('..', import.meta.url), [
    'VERSION',
    'createMetrics',
    'Metrics',
    'AlertManager',
    'callbackNotifier',
    'logNotifier',
    'webhookNotifier',
    'toPrometheusRules',
    'toPromQL',
    'loadAlertRules',
    'parseAlertRules',
    'checkAlertRule',
    'negotiateFormat',
    'metricName',
    'parseDuration',
    'formatDuration',
    'DEFAULT_BUCKETS',
    'OTHER_LABEL_VALUE',
    'UNMATCHED_ROUTE',
    'MAX_WINDOW_MS',
    'Aggregates',
  ]);
});
