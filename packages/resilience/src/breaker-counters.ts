/**
 * The cheap counters behind `stats()`. What every breaker moves on its first calls (state, calls,
 * successes, failures) is kept inline; what most breakers never move (rejections, timeouts, retries
 * ...) lives in `BreakerIncidents`, allocated on first use, so 10,000 quiet keyed breakers do not
 * carry ten zeros each.
 */
import type { CircuitBreakerStats, CircuitState } from '@perf/core';
import type { BreakerKind } from './breaker-snapshot.js';

/** `CircuitBreakerStats` plus the counters the wrapper adds. */
export interface ResilienceStats extends CircuitBreakerStats {
  /** Failures the `errorFilter` did not count (e.g. a 404). */
  ignoredFailures: number;
  /** Calls refused by the bulkhead (full and queue full). */
  bulkheadRejections: number;
  /** Retry attempts made after a first attempt failed. */
  retries: number;
  /** Calls given up by their caller's AbortSignal. */
  aborted: number;
  /** Failure policy: `consecutive`, `count` or `sampling`. */
  kind: BreakerKind;
}

/** Counters that stay 0 for most breakers, and the last failure. */
export class BreakerIncidents {
  ignored = 0;
  rejections = 0;
  bulkheadRejections = 0;
  timeouts = 0;
  slowCalls = 0;
  fallbacks = 0;
  retries = 0;
  aborted = 0;
  lastFailure: { at: number; message: string } | undefined = undefined;
  /** The failure that opened the breaker, as the `cause` of its rejections. */
  lastError: unknown = undefined;
}

const NO_INCIDENTS: Readonly<BreakerIncidents> = Object.freeze(new BreakerIncidents());

export class BreakerCounters {
  state: CircuitState = 'closed';
  stateSince: number;
  transitions = 0;
  calls = 0;
  successes = 0;
  failures = 0;
  #incidents: BreakerIncidents | undefined = undefined;

  constructor(now: number) {
    this.stateSince = now;
  }

  /** The rarely moved counters, allocated on first use. */
  get incidents(): BreakerIncidents {
    this.#incidents ??= new BreakerIncidents();
    return this.#incidents;
  }

  /** The last failure's error (the `cause` of rejections while open), if any. */
  get lastError(): unknown {
    return this.#incidents?.lastError;
  }

  /** Counts a failure of an attempt and remembers it for `stats().lastFailure` and rejections. */
  noteFailure(error: unknown, now: number): void {
    this.failures++;
    const incidents = this.incidents;
    incidents.lastError = error;
    incidents.lastFailure = { at: now, message: error instanceof Error ? error.message : String(error) };
  }

  /** A copy of the counters; `timeInStateMs` is measured against `now`. */
  toStats(name: string, kind: BreakerKind, now: number): ResilienceStats {
    const rare = this.#incidents ?? NO_INCIDENTS;
    return {
      name,
      kind,
      state: this.state,
      calls: this.calls,
      successes: this.successes,
      failures: this.failures,
      ignoredFailures: rare.ignored,
      rejections: rare.rejections,
      bulkheadRejections: rare.bulkheadRejections,
      timeouts: rare.timeouts,
      slowCalls: rare.slowCalls,
      fallbacks: rare.fallbacks,
      retries: rare.retries,
      aborted: rare.aborted,
      stateSince: this.stateSince,
      timeInStateMs: now - this.stateSince,
      ...(rare.lastFailure === undefined ? {} : { lastFailure: { ...rare.lastFailure } }),
      transitions: this.transitions,
    };
  }
}
