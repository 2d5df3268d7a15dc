/** What a caller of `run()` can learn about its own call. */
import type { DedupOutcome, DedupRole, DedupRunOptions } from '@perf/core';

/** How one `run()` call went, for callers that ask (`onSettle`, `runDetailed`). */
export interface DedupCallInfo {
  /** The deduplication key. */
  key: string;
  /** `leader` ran `fn` (bypassed calls too); `follower` joined a call in flight. */
  role: DedupRole;
  /** True when the in-flight table was full and the call ran without deduplication. */
  bypassed: boolean;
  /** This call's correlation id (unique per Deduplicator instance). */
  correlationId: string;
  /** The correlation id of the call that ran `fn` (equal to `correlationId` for a leader). */
  leaderCorrelationId: string;
  outcome: DedupOutcome;
  /** How long this caller waited, in milliseconds, by the instance's clock. */
  waitedMs: number;
}

/** Options of one `run()` call. */
export interface DedupCallOptions extends DedupRunOptions {
  /** Called once when this call settles, with its role, correlation and wait (before the promise settles). */
  onSettle?: (info: DedupCallInfo) => void;
}

/** What `runDetailed()` resolves with. */
export interface DedupDetailedResult<T> {
  value: T;
  info: DedupCallInfo;
}
