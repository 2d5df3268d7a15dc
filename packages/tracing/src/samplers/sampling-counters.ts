/**
 * Counts sampling decisions per rule, so the effective rate can be checked: as plain numbers
 * (`TracingHandle.samplingStats()`) and, for a metrics pipeline such as @perf/metrics, as one
 * message per decision on the `node:diagnostics_channel` channel `perf:tracing:sampling`
 * (published only while someone subscribes, so an unobserved process pays one boolean check).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { Decision, decideWith, type PerfSampler, perfSampler, type Sampler } from './perf-sampler.js';

/** Channel name of sampling decisions; payload is `SamplingDecisionEvent`. */
export const SAMPLING_CHANNEL = 'perf:tracing:sampling';

/** One decision, as published on `SAMPLING_CHANNEL`. */
export interface SamplingDecisionEvent {
  rule: string;
  sampled: boolean;
  spanName: string;
}

/** Sampled and dropped counts of one rule. */
export interface RuleCounts {
  sampled: number;
  dropped: number;
}

/** Counts per rule plus their total. */
export interface SamplingStats {
  rules: Record<string, RuleCounts>;
  total: RuleCounts;
}

const channel = diagnosticsChannel.channel(SAMPLING_CHANNEL);

/** Wraps `inner`, counting each decision under the rule that made it. */
export function countingSampler(inner: Sampler): { sampler: PerfSampler; stats: () => SamplingStats } {
  const counts = new Map<string, RuleCounts>();
  const total: RuleCounts = { sampled: 0, dropped: 0 };
  const sampler = perfSampler(
    String(inner),
    (ctx, traceId, name, kind, attrs, links) => {
      const d = decideWith(inner, 'sampler', ctx, traceId, name, kind, attrs, links);
      let c = counts.get(d.rule);
      if (c === undefined) {
        c = { sampled: 0, dropped: 0 };
        counts.set(d.rule, c);
      }
      const sampled = d.result.decision === Decision.sample;
      if (sampled) {
        c.sampled++;
        total.sampled++;
      } else {
        c.dropped++;
        total.dropped++;
      }
      if (channel.hasSubscribers) {
        channel.publish({ rule: d.rule, sampled, spanName: name } satisfies SamplingDecisionEvent);
      }
      return d;
    },
    () => (inner as PerfSampler).shutdown?.(),
  );
  return {
    sampler,
    stats: () => ({
      rules: Object.fromEntries([...counts].map(([k, v]) => [k, { ...v }])),
      total: { ...total },
    }),
  };
}
