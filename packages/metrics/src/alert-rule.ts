/**
 * Alert rules: an expression over the sliding-window aggregates, a comparison, `for` and
 * `keepFiringFor` durations, grouping labels (one alert per label set), severity, labels and
 * annotations. The same rule is written in code or in a JSON rules file, evaluated in process,
 * and exported as a Prometheus rule (`toPrometheusRules`).
 */
import { type Check, checkOptions, is, optional, PerfConfigError, withDefault } from '@perf/core';
import type { Aggregates, AggregateValue, Selector } from './aggregates.js';
import { durationCheck } from './duration.js';
import { COUNTER_DEFS, GAUGE_DEFS, HISTOGRAM_DEFS, type Signal, signalKind } from './standard-metrics.js';

/** A duration: milliseconds, or a string such as `30s`, `5m`, `1h`. */
export type Duration = number | string;

export interface SelectorInput {
  signal: Signal;
  match?: Record<string, string>;
}

/** What a rule measures. */
export type AlertExpression =
  /** Events per second (counter signals; histogram signals count observations). */
  | { rate: SelectorInput; window: Duration }
  /** `numerator / denominator` of two rates, e.g. misses over lookups. */
  | { ratio: { numerator: SelectorInput; denominator: SelectorInput }; window: Duration }
  /** A latency quantile (0..1) of a histogram signal, in seconds. */
  | { quantile: number; of: SelectorInput; window: Duration }
  /** The current value of a gauge signal, e.g. `breaker_state` with `state: "open"`. */
  | { value: SelectorInput };

export type ComparisonOperator = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface AlertRule {
  /** The alert name (`alertname`): letters, digits and `_`. */
  name: string;
  expr: AlertExpression;
  /** Default `>`. */
  op?: ComparisonOperator;
  threshold: number;
  /** How long the condition must hold before the alert fires. Default 0 (fire at once). */
  for?: Duration;
  /** Keep firing this long after the condition stopped holding (against flapping). Default 0. */
  keepFiringFor?: Duration;
  /** Labels to group by: one alert per distinct label set. Default none (one alert). */
  by?: string[];
  /** Default `warning`. */
  severity?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A rule after validation: durations in milliseconds, defaults applied. */
export interface CheckedAlertRule {
  name: string;
  expr: CheckedExpression;
  op: ComparisonOperator;
  threshold: number;
  forMs: number;
  keepFiringForMs: number;
  by: readonly string[];
  severity: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

export type CheckedExpression =
  | { kind: 'rate'; selector: Selector; windowMs: number }
  | { kind: 'ratio'; numerator: Selector; denominator: Selector; windowMs: number }
  | { kind: 'quantile'; q: number; selector: Selector; windowMs: number }
  | { kind: 'value'; selector: Selector };

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labelMap: Check<Record<string, string>> = (v, ctx) => {
  if (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.entries(v).every(([k, x]) => LABEL.test(k) && !k.startsWith('__') && typeof x === 'string')
  ) {
    return { ...(v as Record<string, string>) };
  }
  throw new PerfConfigError(ctx.field, 'must map label names to strings', v, { owner: ctx.owner });
};

function labelsOf(signal: Signal): readonly string[] {
  return (
    (COUNTER_DEFS as Record<string, { labels: readonly string[] }>)[signal]?.labels ??
    (HISTOGRAM_DEFS as Record<string, { labels: readonly string[] }>)[signal]?.labels ??
    (GAUGE_DEFS as Record<string, { labels: readonly string[] }>)[signal]!.labels
  );
}

function selectorCheck(kinds: readonly ('counter' | 'histogram' | 'gauge')[]): Check<Selector> {
  return (v, ctx) => {
    const s = is.object({
      signal: (x, c) => {
        const kind = signalKind(String(x));
        if (typeof x === 'string' && kind && kinds.includes(kind)) return x as Signal;
        throw new PerfConfigError(c.field, `must be a ${kinds.join(' or ')} signal name`, x, {
          owner: c.owner,
        });
      },
      match: optional(labelMap),
    })(v, ctx);
    const known = labelsOf(s.signal);
    for (const k of Object.keys(s.match ?? {})) {
      if (!known.includes(k)) {
        throw new PerfConfigError(
          `${ctx.field}.match.${k}`,
          `is not a label of ${s.signal} (${known.join(', ')})`,
          k,
          {
            owner: ctx.owner,
          },
        );
      }
    }
    return s.match ? { signal: s.signal, match: s.match } : { signal: s.signal };
  };
}

const rateSelector = selectorCheck(['counter', 'histogram']);
const window: Check<number> = (v, ctx) => {
  const ms = durationCheck(v, ctx);
  if (ms < 1000 || ms > 15 * 60_000) {
    throw new PerfConfigError(ctx.field, 'must be between 1s and 15m', v, { owner: ctx.owner });
  }
  return ms;
};

const expressionCheck: Check<CheckedExpression> = (v, ctx) => {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const sub = (field: string) => ({ owner: ctx.owner, field: `${ctx.field}.${field}` });
  if ('rate' in o) {
    is.object({ rate: is.plainObject, window: window })(v, ctx);
    return {
      kind: 'rate',
      selector: rateSelector(o.rate, sub('rate')),
      windowMs: window(o.window, sub('window')),
    };
  }
  if ('ratio' in o) {
    const r = is.object({ ratio: is.plainObject, window: window })(v, ctx);
    const parts = is.object({ numerator: is.plainObject, denominator: is.plainObject })(
      r.ratio,
      sub('ratio'),
    );
    return {
      kind: 'ratio',
      numerator: rateSelector(parts.numerator, sub('ratio.numerator')),
      denominator: rateSelector(parts.denominator, sub('ratio.denominator')),
      windowMs: r.window,
    };
  }
  if ('quantile' in o) {
    is.object({ quantile: is.ratio, of: is.plainObject, window: window })(v, ctx);
    return {
      kind: 'quantile',
      q: is.ratio(o.quantile, sub('quantile')),
      selector: selectorCheck(['histogram'])(o.of, sub('of')),
      windowMs: window(o.window, sub('window')),
    };
  }
  if ('value' in o) {
    is.object({ value: is.plainObject })(v, ctx);
    return { kind: 'value', selector: selectorCheck(['gauge'])(o.value, sub('value')) };
  }
  throw new PerfConfigError(ctx.field, 'must have one of rate, ratio, quantile or value', v, {
    owner: ctx.owner,
  });
};

const ruleShape = {
  name: (v: unknown, ctx: { owner: string; field: string }) => {
    if (typeof v === 'string' && NAME.test(v)) return v;
    throw new PerfConfigError(ctx.field, 'must be an alert name (letters, digits, _)', v, {
      owner: ctx.owner,
    });
  },
  expr: expressionCheck,
  op: withDefault(is.oneOf('>', '>=', '<', '<=', '==', '!='), '>' as ComparisonOperator),
  threshold: (v: unknown, ctx: { owner: string; field: string }) => {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    throw new PerfConfigError(ctx.field, 'must be a finite number', v, { owner: ctx.owner });
  },
  for: withDefault(durationCheck, 0),
  keepFiringFor: withDefault(durationCheck, 0),
  by: withDefault(is.arrayOf(check(LABEL, 'a label name')), [] as string[]),
  severity: withDefault(is.nonEmptyString, 'warning'),
  labels: withDefault(labelMap, {}),
  annotations: withDefault(labelMap, {}),
};

function check(pattern: RegExp, what: string): Check<string> {
  return (v, ctx) => {
    if (typeof v === 'string' && pattern.test(v)) return v;
    throw new PerfConfigError(ctx.field, `must be ${what}`, v, { owner: ctx.owner });
  };
}

/**
 * Validates a rule and normalises it (durations to milliseconds, defaults applied).
 * @throws {PerfConfigError} naming the offending field, e.g. `rules[1].expr.window`.
 */
export function checkAlertRule(rule: unknown, field = 'rule', owner = 'alerts'): CheckedAlertRule {
  const prefixed = (e: unknown) =>
    e instanceof PerfConfigError
      ? new PerfConfigError(`${field}.${e.field}`, e.reason, e.received, { owner, cause: e.cause })
      : e;
  try {
    const r = checkOptions(owner, rule, ruleShape);
    const groupable = groupLabels(r.expr);
    for (const b of r.by) {
      if (!groupable.includes(b)) {
        throw new PerfConfigError(
          'by',
          `can only hold labels of the expression (${groupable.join(', ')})`,
          b,
        );
      }
    }
    return {
      name: r.name,
      expr: r.expr,
      op: r.op,
      threshold: r.threshold,
      forMs: r.for,
      keepFiringForMs: r.keepFiringFor,
      by: r.by,
      severity: r.severity,
      labels: r.labels,
      annotations: r.annotations,
    };
  } catch (error) {
    throw prefixed(error);
  }
}

function groupLabels(expr: CheckedExpression): readonly string[] {
  if (expr.kind === 'ratio') {
    const d = labelsOf(expr.denominator.signal);
    return labelsOf(expr.numerator.signal).filter((l) => d.includes(l));
  }
  return labelsOf(expr.selector.signal);
}

/** Evaluates a rule's expression over the aggregates: one value per `by` label set. */
export function evaluateExpression(rule: CheckedAlertRule, aggregates: Aggregates): AggregateValue[] {
  const e = rule.expr;
  switch (e.kind) {
    case 'rate':
      return aggregates.rate(e.selector, e.windowMs, rule.by);
    case 'ratio':
      return aggregates.ratio(e.numerator, e.denominator, e.windowMs, rule.by);
    case 'quantile':
      return aggregates.quantile(e.selector, e.q, e.windowMs, rule.by);
    case 'value':
      return aggregates.value(e.selector, rule.by);
  }
}

/** `value <op> threshold`. */
export function compare(value: number, op: ComparisonOperator, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}
