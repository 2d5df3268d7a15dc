/**
 * The sampler contract of @perf/tracing: an OpenTelemetry `Sampler` (structurally, so building
 * one needs no SDK installed) that also says which rule decided, so decisions can be counted per
 * rule. Decision values are OpenTelemetry's stable `SamplingDecision` numbers.
 */
import type { Attributes, Context, Link, SpanKind, TraceState } from '@opentelemetry/api';

/** OpenTelemetry's `SamplingDecision`: 0 drop, 1 record only, 2 record and sample. */
export const Decision = { drop: 0, record: 1, sample: 2 } as const;

/** What a sampler returns (OpenTelemetry's `SamplingResult`). */
export interface SamplingResult {
  decision: 0 | 1 | 2;
  attributes?: Readonly<Attributes>;
  traceState?: TraceState;
}

/** An OpenTelemetry `Sampler` (any SDK sampler fits). */
export interface Sampler {
  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult;
  toString(): string;
}

/** A decision plus the name of the rule that made it (`parent`, `ratio`, a rule's name...). */
export interface RuledDecision {
  result: SamplingResult;
  rule: string;
}

/** A @perf sampler: a `Sampler` that can also say which rule decided. */
export interface PerfSampler extends Sampler {
  decide(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): RuledDecision;
  /** Stops background work (the Jaeger remote poller); `setupTracing`'s `shutdown()` calls it. */
  shutdown?(): void;
}

export const SAMPLED: SamplingResult = Object.freeze({ decision: Decision.sample });
export const DROPPED: SamplingResult = Object.freeze({ decision: Decision.drop });

/** True when `s` is a @perf sampler (has `decide`). */
export function isPerfSampler(s: unknown): s is PerfSampler {
  return typeof (s as PerfSampler | undefined)?.decide === 'function';
}

/** Asks any sampler, ours or a foreign one (then the rule is `label`). */
export function decideWith(
  sampler: Sampler,
  label: string,
  ...args: Parameters<Sampler['shouldSample']>
): RuledDecision {
  if (isPerfSampler(sampler)) return sampler.decide(...args);
  return { result: sampler.shouldSample(...args), rule: label };
}

/** Builds a `PerfSampler` from its `decide` function. */
export function perfSampler(
  description: string,
  decide: PerfSampler['decide'],
  shutdown?: () => void,
): PerfSampler {
  const s: PerfSampler = {
    decide,
    shouldSample: (...args) => decide(...args).result,
    toString: () => description,
  };
  if (shutdown) s.shutdown = shutdown;
  return s;
}
