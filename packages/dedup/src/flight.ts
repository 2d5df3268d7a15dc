/** One operation in flight for one key, and everyone waiting on it (internal). */
import type { Span } from '@opentelemetry/api';
import type { DedupOutcome, DedupRole, TimerHandle } from '@perf/core';
import type { DedupCallOptions } from './call-info.js';

/**
 * A caller with its own signal, timeout, callback, span or clone: it gets its own promise, settled
 * by the flight (or earlier, by its own abort or timeout).
 */
export class Caller<T> {
  readonly flight: Flight<T>;
  readonly role: DedupRole;
  readonly seq: number;
  readonly startedAt: number;
  /** Copied from the options when the call started (a reused options object may change later). */
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number | undefined;
  readonly onSettle: DedupCallOptions['onSettle'];
  readonly span: Span | undefined;
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  timer: TimerHandle | undefined;
  done = false;

  constructor(
    flight: Flight<T>,
    role: DedupRole,
    seq: number,
    startedAt: number,
    options: DedupCallOptions | undefined,
    span: Span | undefined,
  ) {
    this.flight = flight;
    this.role = role;
    this.seq = seq;
    this.startedAt = startedAt;
    this.signal = options?.signal;
    this.timeoutMs = options?.timeoutMs;
    this.onSettle = options?.onSettle;
    this.span = span;
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

export class Flight<T> {
  readonly key: string;
  /** The leader's call number; its correlation id is derived from it. */
  readonly seq: number;
  /** Clock time the operation started (the in-flight limit counts from here). */
  readonly startedAt: number;
  /** Present when `fn` declared a signal parameter (or distributed mode needs one). */
  readonly controller: AbortController | undefined;
  /** True for a call that ran without deduplication (not in the in-flight table). */
  readonly bypassed: boolean;
  /** Settles with the operation; what callers without options of their own receive. */
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  /** Callers with options of their own, settled one by one when the flight settles. */
  callers: Caller<T>[] | undefined;
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
