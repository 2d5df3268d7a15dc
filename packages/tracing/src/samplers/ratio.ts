/**
 * Trace-id ratio and parent-based sampling, the same algorithm as OpenTelemetry's
 * `TraceIdRatioBasedSampler` / `ParentBasedSampler` (so a trace keeps one decision across
 * services), written here so a sampler can be built without the SDK installed.
 */
import { isSpanContextValid, TraceFlags, trace } from '@opentelemetry/api';
import { is, PerfConfigError, withDefault } from '@perf/core';
import { DROPPED, decideWith, type PerfSampler, perfSampler, SAMPLED, type Sampler } from './perf-sampler.js';

/** The low 32 bits of the trace id folded together; uniform for random ids. */
function accumulate(traceId: string): number {
  let acc = 0;
  for (let i = 0; i < traceId.length / 8; i++) {
    const part = Number.parseInt(traceId.slice(i * 8, i * 8 + 8), 16);
    acc = (acc ^ part) >>> 0;
  }
  return acc;
}

/**
 * Samples `ratio` of traces, decided by the trace id alone (rule `ratio`).
 * @throws {PerfConfigError} when `ratio` is not in [0, 1].
 */
export function traceIdRatioSampler(ratio: number): PerfSampler {
  const r = is.ratio(ratio, { owner: 'traceIdRatioSampler', field: 'ratio' });
  const bound = Math.floor(r * 0xffffffff);
  return perfSampler(`TraceIdRatio{${r}}`, (_ctx, traceId) => ({
    result: r >= 1 || (r > 0 && accumulate(traceId) < bound) ? SAMPLED : DROPPED,
    rule: 'ratio',
  }));
}

/** Options of `parentBasedSampler`. */
export interface ParentBasedOptions {
  /** Decides for root spans (no parent). */
  root: Sampler;
  /** Label of the root sampler's decisions when it is not a @perf sampler. Default `root`. */
  rootLabel?: string;
}

/**
 * Children follow their parent's sampled flag (rule `parent`); roots ask `root`.
 * @throws {PerfConfigError} when `root` is not a sampler.
 */
export function parentBasedSampler(options: ParentBasedOptions): PerfSampler {
  const root = options?.root;
  if (typeof root?.shouldSample !== 'function') {
    throw new PerfConfigError('root', 'must be a Sampler (an object with shouldSample)', root, {
      owner: 'parentBasedSampler',
    });
  }
  const label = withDefault(is.nonEmptyString, 'root')(options.rootLabel, {
    owner: 'parentBasedSampler',
    field: 'rootLabel',
  });
  return perfSampler(`ParentBased{root=${root}}`, (ctx, traceId, name, kind, attrs, links) => {
    const parent = trace.getSpanContext(ctx);
    if (parent && isSpanContextValid(parent)) {
      return {
        result: (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? SAMPLED : DROPPED,
        rule: 'parent',
      };
    }
    return decideWith(root, label, ctx, traceId, name, kind, attrs, links);
  });
}

/** The default: parent-based, roots sampled at `ratio` (1 keeps every trace). */
export function defaultSampler(ratio = 1): PerfSampler {
  return parentBasedSampler({ root: traceIdRatioSampler(ratio) });
}
