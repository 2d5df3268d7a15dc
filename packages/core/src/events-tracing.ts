/** Payloads of the `perf:tracing:*` channels, published by @perf/tracing. */

/** One sampling decision of a root span, named by the rule that made it. */
export interface TracingSamplingEvent {
  /** The rule (or sampler) that decided, e.g. `ratio(0.1)`, `rule:health`, `rate-limit`. */
  rule: string;
  /** True when the span is recorded and exported. */
  sampled: boolean;
  /** The name of the span the decision was made for. */
  spanName: string;
}
