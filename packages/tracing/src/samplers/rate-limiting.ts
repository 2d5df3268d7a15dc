/**
 * At most N new traces a second for each root span name: a token bucket per name (so a flood of
 * health checks cannot use up the budget of chat writes). Children follow their parent.
 */
import { type Clock, check, checkOptions, is, optional, systemClock, withDefault } from '@perf/core';
import { DROPPED, type PerfSampler, perfSampler, SAMPLED } from './perf-sampler.js';
import { parentBasedSampler } from './ratio.js';

/** Options of `rateLimitingSampler`. */
export interface RateLimitingSamplerOptions {
  /** New traces allowed per second, per root span name (may be fractional, e.g. 0.1). */
  tracesPerSecond: number;
  /** Bucket size: how many traces may start at once after a quiet period. Default `max(1, tracesPerSecond)`. */
  burst?: number;
  /** How many span names get their own bucket; the least recently used is forgotten. Default 1000. */
  maxNames?: number;
  /** One bucket per root span name (default) or one for all, as Jaeger's rate-limiting strategy. */
  perSpanName?: boolean;
  /** Time source (tests pass a `ManualClock`). Default the system clock. */
  clock?: Clock;
}

const isClock = check<Clock>((v) => typeof (v as Clock | null)?.now === 'function', 'a Clock (with now())');

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Root spans: sampled while their name's bucket has a token (rule `rate-limit`); children follow
 * their parent (rule `parent`).
 * @throws {PerfConfigError} naming the bad option.
 */
export function rateLimitingSampler(options: RateLimitingSamplerOptions): PerfSampler {
  const o = checkOptions('rateLimitingSampler', options, {
    tracesPerSecond: is.positiveNumber,
    burst: optional(is.positiveNumber),
    maxNames: withDefault(is.positiveInteger, 1000),
    perSpanName: withDefault(is.boolean, true),
    clock: withDefault(isClock, systemClock),
  });
  const rate = o.tracesPerSecond;
  const burst = o.burst ?? Math.max(1, rate);
  const clock = o.clock;
  const buckets = new Map<string, Bucket>();

  const root = perfSampler(`RateLimiting{${rate}/s, burst=${burst}}`, (_ctx, _traceId, spanName) => {
    const name = o.perSpanName ? spanName : '';
    const now = clock.now();
    let b = buckets.get(name);
    if (b === undefined) {
      b = { tokens: burst, at: now };
      if (buckets.size >= o.maxNames) buckets.delete(buckets.keys().next().value as string);
    } else {
      buckets.delete(name); // re-insert below: Map order is our LRU order
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
    }
    buckets.set(name, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { result: SAMPLED, rule: 'rate-limit' };
    }
    return { result: DROPPED, rule: 'rate-limit' };
  });
  return parentBasedSampler({ root });
}
