/** Payloads of the `perf:dedup:*` channels, published by @perf/dedup. */

interface DedupEventBase {
  /** The Deduplicator's `name` option. */
  name: string;
  /** The deduplication key. */
  key: string;
  /** This caller's correlation id. */
  correlationId: string;
}

export interface DedupLeadEvent extends DedupEventBase {}

export interface DedupJoinEvent extends DedupEventBase {
  /** The correlation id of the leader this caller joined. */
  leaderCorrelationId: string;
}

export type DedupRole = 'leader' | 'follower';
export type DedupOutcome = 'success' | 'error' | 'timeout' | 'aborted';

export interface DedupSettleEvent extends DedupEventBase {
  role: DedupRole;
  leaderCorrelationId: string;
  outcome: DedupOutcome;
  /** How long this caller waited, in milliseconds. */
  durationMs: number;
}

export interface DedupTimeoutEvent extends DedupEventBase {
  role: DedupRole;
  /** The bound that ran out. */
  timeoutMs: number;
}

export interface DedupBypassEvent {
  name: string;
  key: string;
  reason: 'max-in-flight' | 'not-deduplicable';
}
