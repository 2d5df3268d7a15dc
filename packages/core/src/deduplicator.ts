/** The contract @perf/dedup implements and @perf/cache relies on. */

export interface DedupRunOptions {
  /** Abort this caller's wait; the shared operation is aborted only when every caller has. */
  signal?: AbortSignal;
  /** Bounds this caller's own wait; on expiry it rejects with `PerfTimeoutError`, others keep waiting. */
  timeoutMs?: number;
}

export interface DedupStats {
  /** Calls to `run()`. */
  total: number;
  /** Calls that ran `fn` themselves. */
  leaders: number;
  /** Calls that joined one in flight: duplicates prevented. */
  followers: number;
  /** Keys in flight right now. */
  inFlight: number;
  timeouts: number;
  errors: number;
  aborted: number;
  /** Calls that ran without deduplication because the in-flight table was full. */
  bypassed: number;
  /** followers / total, 0 when nothing ran. */
  dedupRatio: number;
}

export interface Deduplicator {
  /**
   * Runs `fn` for `key` unless a call for `key` is already in flight, in which case this caller
   * joins it and gets the same outcome.
   */
  run<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, options?: DedupRunOptions): Promise<T>;
  stats(): DedupStats;
}
