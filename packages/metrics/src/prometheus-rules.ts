/**
 * Exports alert rules as a Prometheus rule file (YAML), with the same semantics as the in-process
 * evaluation: `sum by (...)` over `rate()` for rates and ratios, `histogram_quantile` over the
 * `_bucket` series for quantiles, the gauge itself for values; `for` and `keep_firing_for` as is.
 * Strings are written as JSON strings, which YAML reads as double-quoted scalars.
 */
import { checkOptions, is, optional, withDefault } from '@perf/core';
import type { Selector } from './aggregates.js';
import { type AlertRule, type CheckedAlertRule, checkAlertRule } from './alert-rule.js';
import { durationCheck, formatDuration } from './duration.js';
import { metricName, signalKind } from './standard-metrics.js';

export interface PrometheusRulesOptions {
  /** Metric name prefix, as given to `createMetrics`. Default `perf_`. */
  prefix?: string;
  /** The rule group name. Default `perf`. */
  group?: string;
  /** The group's evaluation interval. Default none (Prometheus's global one). */
  interval?: number | string;
}

/** The PromQL expression (without the comparison) a rule stands for. */
export function toPromQL(rule: CheckedAlertRule, prefix = 'perf_'): string {
  const by = rule.by.length > 0 ? ` by (${rule.by.join(', ')})` : '';
  const e = rule.expr;
  const series = (s: Selector, suffix = '') => `${metricName(prefix, s.signal)}${suffix}${matchers(s)}`;
  const rate = (s: Selector, w: number) => {
    const suffix = signalKind(s.signal) === 'histogram' ? '_count' : '';
    return `sum${by} (rate(${series(s, suffix)}[${formatDuration(w)}]))`;
  };
  switch (e.kind) {
    case 'rate':
      return rate(e.selector, e.windowMs);
    case 'ratio':
      return `${rate(e.numerator, e.windowMs)} / ${rate(e.denominator, e.windowMs)}`;
    case 'quantile': {
      const le = rule.by.length > 0 ? `le, ${rule.by.join(', ')}` : 'le';
      return `histogram_quantile(${e.q}, sum by (${le}) (rate(${series(e.selector, '_bucket')}[${formatDuration(e.windowMs)}])))`;
    }
    case 'value':
      return `sum${by} (${series(e.selector)})`;
  }
}

function matchers(s: Selector): string {
  const entries = Object.entries(s.match ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

/**
 * The rules as a Prometheus rule file (`promtool check rules` accepts it).
 * @throws {PerfConfigError} for an invalid rule or option.
 */
export function toPrometheusRules(
  rules: readonly (AlertRule | CheckedAlertRule)[],
  options?: PrometheusRulesOptions,
): string {
  const o = checkOptions('toPrometheusRules', options, {
    prefix: withDefault(is.string, 'perf_'),
    group: withDefault(is.nonEmptyString, 'perf'),
    interval: optional(durationCheck),
  });
  const checked = rules.map((r, i) =>
    isChecked(r) ? r : checkAlertRule(r, `rules[${i}]`, 'toPrometheusRules'),
  );
  const q = (s: string) => JSON.stringify(s);
  const lines = ['groups:', `  - name: ${q(o.group)}`];
  if (o.interval) lines.push(`    interval: ${formatDuration(o.interval)}`);
  lines.push('    rules:');
  for (const r of checked) {
    lines.push(`      - alert: ${r.name}`);
    lines.push(`        expr: ${q(`${toPromQL(r, o.prefix)} ${r.op} ${r.threshold}`)}`);
    if (r.forMs > 0) lines.push(`        for: ${formatDuration(r.forMs)}`);
    if (r.keepFiringForMs > 0) lines.push(`        keep_firing_for: ${formatDuration(r.keepFiringForMs)}`);
    lines.push('        labels:');
    lines.push(`          severity: ${q(r.severity)}`);
    for (const [k, v] of Object.entries(r.labels))
      if (k !== 'severity') lines.push(`          ${k}: ${q(v)}`);
    const annotations = Object.entries(r.annotations);
    if (annotations.length > 0) {
      lines.push('        annotations:');
      for (const [k, v] of annotations) lines.push(`          ${k}: ${q(v)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function isChecked(r: AlertRule | CheckedAlertRule): r is CheckedAlertRule {
  return (
    typeof (r as CheckedAlertRule).forMs === 'number' &&
    typeof (r as CheckedAlertRule).expr === 'object' &&
    'kind' in r.expr
  );
}
