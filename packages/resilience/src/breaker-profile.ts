/**
 * What every breaker built from one checked options object shares: derived flags and the
 * half-open backoff schedule (cockatiel's backoffs are immutable values). Keyed breakers of one
 * registry share one options object, so they share one profile instead of ten thousand copies.
 */
import type { Clock } from '@perf/core';
import {
  ConstantBackoff,
  ExponentialBackoff,
  type IBackoffFactory,
  type IHalfOpenAfterBackoffContext,
  noJitterGenerator,
} from 'cockatiel';
import type { CheckedBreakerOptions } from './breaker-options.js';
import type { BreakerKind } from './breaker-snapshot.js';

export interface BreakerProfile {
  readonly options: CheckedBreakerOptions;
  readonly clock: Clock;
  readonly kind: BreakerKind;
  /** Neither a timeout nor slow-call detection wraps the function. */
  readonly plain: boolean;
  /** Plain, and no retry, bulkhead or fallback: calls may go straight to cockatiel. */
  readonly lean: boolean;
  /** The open-period schedule, before it is put on the breaker's clock. */
  readonly halfOpenSchedule: IBackoffFactory<IHalfOpenAfterBackoffContext>;
}

const profiles = new WeakMap<CheckedBreakerOptions, BreakerProfile>();

/** The profile of `options`, built once per options object. */
export function profileOf(options: CheckedBreakerOptions): BreakerProfile {
  let profile = profiles.get(options);
  if (profile === undefined) {
    profile = buildProfile(options);
    profiles.set(options, profile);
  }
  return profile;
}

function buildProfile(o: CheckedBreakerOptions): BreakerProfile {
  const plain = o.timeoutMs === undefined && o.slowCallMs === undefined;
  return {
    options: o,
    clock: o.clock,
    kind: o.window === undefined ? 'consecutive' : o.window.type,
    plain,
    lean: plain && o.retry === undefined && o.bulkhead === undefined && o.fallback === undefined,
    halfOpenSchedule:
      o.halfOpenBackoff === undefined
        ? new ConstantBackoff(o.halfOpenAfterMs)
        : new ExponentialBackoff({
            initialDelay: o.halfOpenAfterMs,
            maxDelay: o.halfOpenBackoff.maxDelayMs,
            generator: noJitterGenerator,
          }),
  };
}
