/** One operation in flight for one key, and everyone waiting on it (internal). */
import type { Span } from '@opentelemetry/api';
import type { DedupOutcome } from '@perf/core';

export class Flight<T> {
  readonly key: string;
  /** The leader's call number; its correlation id is derived from it. */
  readonly seq: number;
  /** Clock time the operation started (the in-flight limit counts from here). */
  readonly startedAt: number;
  /** Present when `fn` declared a signal parameter, so it can observe cancellation. */
  readonly controller: AbortController | undefined;
  /** True for a call that ran without deduplication (not in the in-flight table). */
  readonly bypassed: boolean;
  /** Settles with the operation; every caller's promise derives from it. */
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  /** Callers still waiting (the leader included); when the last one aborts, the operation is aborted. */
  waiting = 1;
  /** Followers that joined. */
  followers = 0;
  /** Callers that took `promise` as is (no signal, timeout or callback); counted when it settles. */
  plainCallers = 0;
  settled = false;
  outcome: DedupOutcome | undefined;
  /** With `share: 'clone'`: a pristine copy taken when the value arrived, for followers to clone. */
  snapshot: unknown;
  snapshotError: unknown;
  span: Span | undefined;

  constructor(
    key: string,
    seq: number,
    startedAt: number,
    controller: AbortController | undefined,
    bypassed: boolean,
  ) {
    this.key = key;
    this.seq = seq;
    this.startedAt = startedAt;
    this.controller = controller;
    this.bypassed = bypassed;
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}
