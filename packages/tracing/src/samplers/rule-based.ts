/**
 * Rule-based sampling: the first rule whose span name, route and attributes all match decides,
 * with its own ratio or sampler (keep every chat write, 1% of health checks...). Children follow
 * their parent, so a trace is kept or dropped whole.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { PerfConfigError } from '@perf/core';
import { type PerfSampler, perfSampler, type Sampler } from './perf-sampler.js';
import { defaultSampler, parentBasedSampler, traceIdRatioSampler } from './ratio.js';

/** A string matches exactly; a RegExp is tested. */
export type Matcher = string | RegExp;

/** One rule. Every matcher given must match; a rule with none matches every root span. */
export interface SamplingRule {
  /** Counted under this name (default `rule-<index>`). */
  name?: string;
  /** Matches the span name. */
  spanName?: Matcher;
  /** Matches the `http.route` attribute (or `url.path` when there is no route). */
  route?: Matcher;
  /** Each attribute must be present and match (numbers and booleans compare by value). */
  attributes?: Record<string, Matcher | number | boolean>;
  /** Ratio in [0, 1] of matching traces to keep, or any sampler to ask. */
  sample: number | Sampler;
}

/** Options of `ruleBasedSampler`. */
export interface RuleBasedSamplerOptions {
  rules: SamplingRule[];
  /** Decides for roots no rule matches. Default: keep every trace (counted as `default`). */
  fallback?: Sampler;
}

interface CompiledRule {
  name: string;
  spanName: Matcher | undefined;
  route: Matcher | undefined;
  attributes: [string, Matcher | number | boolean][];
  sampler: Sampler;
}

const owner = 'ruleBasedSampler';

function matches(m: Matcher, value: string): boolean {
  if (typeof m === 'string') return m === value;
  m.lastIndex = 0; // a /g or /y RegExp keeps state between tests
  return m.test(value);
}

function attributeMatches(expected: Matcher | number | boolean, actual: AttributeValue | undefined): boolean {
  if (actual === undefined) return false;
  if (typeof expected === 'number' || typeof expected === 'boolean') return actual === expected;
  return matches(expected, String(actual));
}

function isMatcher(v: unknown): v is Matcher {
  return typeof v === 'string' || v instanceof RegExp;
}

function compile(rule: SamplingRule, i: number): CompiledRule {
  const field = `rules[${i}]`;
  if (typeof rule !== 'object' || rule === null) {
    throw new PerfConfigError(field, 'must be a rule object', rule, { owner });
  }
  for (const key of Object.keys(rule)) {
    if (!['name', 'spanName', 'route', 'attributes', 'sample'].includes(key)) {
      throw new PerfConfigError(
        `${field}.${key}`,
        'is not a known option (known: name, spanName, route, attributes, sample)',
        (rule as unknown as Record<string, unknown>)[key],
        { owner },
      );
    }
  }
  if (rule.name !== undefined && (typeof rule.name !== 'string' || rule.name === '')) {
    throw new PerfConfigError(`${field}.name`, 'must be a non-empty string', rule.name, { owner });
  }
  for (const key of ['spanName', 'route'] as const) {
    if (rule[key] !== undefined && !isMatcher(rule[key])) {
      throw new PerfConfigError(`${field}.${key}`, 'must be a string or a RegExp', rule[key], { owner });
    }
  }
  const attributes: [string, Matcher | number | boolean][] = [];
  if (rule.attributes !== undefined) {
    if (typeof rule.attributes !== 'object' || rule.attributes === null) {
      throw new PerfConfigError(`${field}.attributes`, 'must be an object', rule.attributes, { owner });
    }
    for (const [k, v] of Object.entries(rule.attributes)) {
      if (!isMatcher(v) && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new PerfConfigError(
          `${field}.attributes.${k}`,
          'must be a string, RegExp, number or boolean',
          v,
          { owner },
        );
      }
      attributes.push([k, v]);
    }
  }
  let sampler: Sampler;
  if (typeof rule.sample === 'number') {
    if (!(rule.sample >= 0 && rule.sample <= 1)) {
      throw new PerfConfigError(
        `${field}.sample`,
        'must be a number between 0 and 1 or a Sampler',
        rule.sample,
        {
          owner,
        },
      );
    }
    sampler = traceIdRatioSampler(rule.sample);
  } else if (typeof (rule.sample as Sampler | undefined)?.shouldSample === 'function') {
    sampler = rule.sample;
  } else {
    throw new PerfConfigError(
      `${field}.sample`,
      'must be a number between 0 and 1 or a Sampler',
      rule.sample,
      {
        owner,
      },
    );
  }
  return { name: rule.name ?? `rule-${i}`, spanName: rule.spanName, route: rule.route, attributes, sampler };
}

function ruleMatches(r: CompiledRule, spanName: string, attrs: Attributes): boolean {
  if (r.spanName !== undefined && !matches(r.spanName, spanName)) return false;
  if (r.route !== undefined) {
    const route = attrs['http.route'] ?? attrs['url.path'];
    if (route === undefined || !matches(r.route, String(route))) return false;
  }
  for (const [k, v] of r.attributes) if (!attributeMatches(v, attrs[k])) return false;
  return true;
}

/**
 * Roots: the first matching rule decides and is counted under its name; no match asks
 * `fallback` (counted as `default`). Children follow their parent (`parent`).
 * Attributes are those given when the span starts (`startSpan(name, { attributes })`).
 * @throws {PerfConfigError} naming the bad rule field, e.g. `rules[2].sample`.
 */
export function ruleBasedSampler(options: RuleBasedSamplerOptions): PerfSampler {
  if (typeof options !== 'object' || options === null) {
    throw new PerfConfigError('options', 'must be a plain object', options, { owner });
  }
  if (!Array.isArray(options.rules)) {
    throw new PerfConfigError('rules', 'must be an array of rules', options.rules, { owner });
  }
  for (const key of Object.keys(options)) {
    if (key !== 'rules' && key !== 'fallback') {
      throw new PerfConfigError(key, 'is not a known option (known: rules, fallback)', undefined, { owner });
    }
  }
  const rules = options.rules.map(compile);
  const names = new Set<string>();
  for (const [i, r] of rules.entries()) {
    if (names.has(r.name)) throw new PerfConfigError(`rules[${i}].name`, 'must be unique', r.name, { owner });
    names.add(r.name);
  }
  const fallback = options.fallback ?? defaultSampler(1);
  if (typeof fallback.shouldSample !== 'function') {
    throw new PerfConfigError('fallback', 'must be a Sampler', fallback, { owner });
  }
  const root = perfSampler(
    `RuleBased{${rules.map((r) => r.name).join(',')}}`,
    (ctx, id, name, kind, attrs, links) => {
      for (const r of rules) {
        if (ruleMatches(r, name, attrs)) {
          return { result: r.sampler.shouldSample(ctx, id, name, kind, attrs, links), rule: r.name };
        }
      }
      return { result: fallback.shouldSample(ctx, id, name, kind, attrs, links), rule: 'default' };
    },
  );
  return parentBasedSampler({ root });
}
