/**
 * Singleflight: while a call for a key is in flight, later callers join it and get the same outcome.
 * The key is freed the moment the call settles, so nothing (errors included) is cached here.
 */
import { randomBytes } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import {
  type Clock,
  channels,
  type Deduplicator as DeduplicatorContract,
  type DedupOutcome,
  type DedupStats,
  describeValue,
  MAX_TIMER_DELAY_MS,
  PerfAbortError,
  PerfClosedError,
  PerfConfigError,
  PerfTimeoutError,
  type TimerHandle,
} from '@perf/core';
import { clampTimerDelay as timerDelay } from '@perf/core/internal';
import { AbortFanout } from './abort-fanout.js';
import type { DedupCallInfo, DedupCallOptions, DedupDetailedResult } from './call-info.js';
import { Caller, Flight } from './flight.js';
import {
  checkDeduplicatorOptions,
  checkRunOptions,
  type DeduplicatorOptions,
  defaultConnectTimeoutMs,
} from './options.js';
import { type DistributedStats, RedisCoordinator } from './redis-coordinator.js';
import { cloneValue, deepFreeze, type ShareMode } from './share.js';
import {
  describeSpan,
  endSpan,
  isRecording,
  runInSpan,
  startFollowerSpan,
  startLeaderSpan,
} from './spans.js';

/** `stats()` of a Deduplicator: core's `DedupStats` plus a few more counters. */
export interface DeduplicatorStats extends DedupStats {
  /** Calls that resolved with a value. */
  successes: number;
  /** Operations abandoned because they outlived the in-flight limit (`timeoutMs`). */
  abandoned: number;
  /** Distributed mode's counters, when it is on. */
  distributed?: DistributedStats;
}

/** One operation in flight, as `inFlightCalls()` lists it. */
export interface InFlightCall {
  key: string;
  leaderCorrelationId: string;
  /** Milliseconds since the operation started. */
  ageMs: number;
  /** Callers still waiting on it (the leader included). */
  waiting: number;
}

/**
 * What `fn` receives when its `length` is 0 (no declared parameter), so no signal is built for it.
 * Such a fn can still reach it (`(...args)`, `(signal = x)`, `arguments`), and it is shared by every
 * call: it keeps no abort listeners (it never aborts, so they could never run), or they would pile up.
 */
const NEVER_ABORTED: AbortSignal = neverAbortingSignal();

function neverAbortingSignal(): AbortSignal {
  const signal = new AbortController().signal;
  const ignore = (): void => {};
  Object.defineProperties(signal, {
    addEventListener: { value: ignore },
    removeEventListener: { value: ignore },
    onabort: { get: () => null, set: ignore },
  });
  return signal;
}

/**
 * Coalesces identical in-flight calls: the first caller for a key leads and runs `fn`, callers that
 * arrive while it runs join it and get the same outcome.
 *
 * - `run(key, fn, { signal, timeoutMs })`: a caller's `timeoutMs` bounds its own wait; its `signal`
 *   lets it leave alone. `fn`'s own signal aborts only when every waiting caller has aborted, when the
 *   operation outlives the in-flight limit (`timeoutMs` option) or on `close()`.
 * - `fn` whose `length` is 0 (`() => fetch(url)`, but also `(...args)`, `(signal = x)`, `arguments`)
 *   is passed a shared signal that never aborts and keeps no listeners: building an `AbortSignal`
 *   costs about 2 µs a call. Declare a plain first parameter to get a real one.
 * - At most `maxInFlight` keys are tracked; past it new keys run without deduplication (`bypassed`).
 */
export class Deduplicator implements DeduplicatorContract {
  readonly name: string;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #share: ShareMode;
  readonly #clock: Clock;
  readonly #spans: boolean;
  readonly #coordinator: RedisCoordinator | undefined;
  readonly #idPrefix = `${randomBytes(4).toString('hex')}-`;
  readonly #flights = new Map<string, Flight<unknown>>();
  readonly #aborts = new AbortFanout<Caller<unknown>>((caller) => this.#callerAborted(caller));
  #seq = 0;
  #sweepTimer: TimerHandle | undefined;
  #closed = false;

  #total = 0;
  #leaders = 0;
  #followers = 0;
  #successes = 0;
  #errors = 0;
  #timeouts = 0;
  #aborted = 0;
  #bypassed = 0;
  #abandoned = 0;

  /**
   * @param options see `DeduplicatorOptions`; everything is optional.
   * @throws {PerfConfigError} naming the field when an option is invalid or unknown.
   */
  constructor(options?: DeduplicatorOptions) {
    const opts = checkDeduplicatorOptions(options);
    this.name = opts.name;
    this.#timeoutMs = opts.timeoutMs;
    this.#maxInFlight = opts.maxInFlight;
    this.#share = opts.share;
    this.#clock = opts.clock;
    this.#spans = opts.spans;
    const d = opts.distributed;
    this.#coordinator =
      d === undefined
        ? undefined
        : new RedisCoordinator(
            {
              ...d,
              waitTimeoutMs: d.waitTimeoutMs ?? opts.timeoutMs,
              connectTimeoutMs: d.connectTimeoutMs ?? defaultConnectTimeoutMs(opts.timeoutMs),
            },
            opts.name,
            opts.clock,
          );
  }

  /**
   * Runs `fn` for `key`, unless a call for `key` is in flight: then this caller joins it and gets
   * the same value or error (shared as the `share` option says).
   *
   * Rejects (never throws synchronously) with:
   * @throws {PerfConfigError} when `key` is not a string, `fn` not a function or an option invalid.
   * @throws {PerfAbortError} when `options.signal` aborts before the call settles (`cause`: its reason).
   * @throws {PerfTimeoutError} when `options.timeoutMs` runs out for this caller, or the operation
   * outlives the in-flight limit.
   * @throws {PerfClosedError} after `close()`, or when `close()` cancels the call.
   * @throws {PerfSerializationError} with `share: 'clone'` when the value cannot be cloned (followers).
   * Otherwise whatever `fn` threw or rejected with.
   */
  run<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, options?: DedupCallOptions): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new PerfClosedError(`Deduplicator "${this.name}" is closed`));
    }
    if (typeof key !== 'string') {
      return Promise.reject(
        new PerfConfigError('key', 'must be a string', key, { owner: 'Deduplicator.run' }),
      );
    }
    if (typeof fn !== 'function') {
      return Promise.reject(
        new PerfConfigError('fn', 'must be a function', fn, { owner: 'Deduplicator.run' }),
      );
    }
    let opts: DedupCallOptions | undefined;
    if (options !== undefined) {
      try {
        opts = checkRunOptions(options);
      } catch (error) {
        return Promise.reject(error);
      }
      if (opts.signal === undefined && opts.timeoutMs === undefined && opts.onSettle === undefined) {
        opts = undefined;
      }
    }
    this.#total++;
    if (opts?.signal?.aborted) return this.#rejectAborted(key, opts);

    const existing = this.#flights.get(key) as Flight<T> | undefined;
    if (existing !== undefined) return this.#join(existing, opts);
    return this.#lead(key, fn, opts, this.#flights.size >= this.#maxInFlight);
  }

  /**
   * Like `run()`, but resolves with the value and how this call went (role, correlation ids, wait).
   * @throws the same errors as `run()`.
   */
  async runDetailed<T>(
    key: string,
    fn: (signal: AbortSignal) => Promise<T>,
    options?: DedupRunOptionsWithoutCallback,
  ): Promise<DedupDetailedResult<T>> {
    let info: DedupCallInfo | undefined;
    const value = await this.run(key, fn, {
      ...options,
      onSettle: (i) => {
        info = i;
      },
    });
    return { value, info: info! };
  }

  /** Counters since construction, and the keys in flight now. */
  stats(): DeduplicatorStats {
    const total = this.#total;
    return {
      total,
      leaders: this.#leaders,
      followers: this.#followers,
      inFlight: this.#flights.size,
      successes: this.#successes,
      timeouts: this.#timeouts,
      errors: this.#errors,
      aborted: this.#aborted,
      bypassed: this.#bypassed,
      abandoned: this.#abandoned,
      dedupRatio: total === 0 ? 0 : this.#followers / total,
      ...(this.#coordinator === undefined ? {} : { distributed: { ...this.#coordinator.stats } }),
    };
  }

  /**
   * The operations in flight now, oldest first: key, the leader's correlation id, age and how many
   * callers wait on it (for debugging a hung key; at most `maxInFlight` entries).
   */
  inFlightCalls(): InFlightCall[] {
    const now = this.#clock.now();
    return [...this.#flights.values()].map((flight) => ({
      key: flight.key,
      leaderCorrelationId: this.#correlationId(flight.seq),
      ageMs: Math.max(0, now - flight.startedAt),
      waiting: flight.waiting,
    }));
  }

  /**
   * Resolves once distributed mode is connected (both Redis connections ready, subscribed); at once
   * without distributed mode. You need not wait for it: calls made before then wait for the first
   * connection themselves (up to `distributed.connectTimeoutMs` after construction), then run.
   * @throws {PerfTimeoutError} (rejects) when Redis is not ready within `distributed.connectTimeoutMs`.
   * @throws {PerfClosedError} (rejects) after `close()`, or when `close()` ends the wait.
   */
  async ready(): Promise<void> {
    if (this.#closed) throw new PerfClosedError(`Deduplicator "${this.name}" is closed`);
    await this.#coordinator?.ready();
  }

  /** True while a call for `key` is in flight here. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /**
   * Cancels every operation in flight (their signals abort; their callers reject with
   * `PerfClosedError`), stops the instance's timer, refuses further calls and, in distributed mode,
   * unsubscribes (closing the subscriber connection it created; your `redis` client stays open).
   * Idempotent. Calls that bypassed deduplication hold no key and run to their end.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const error = new PerfClosedError(`Deduplicator "${this.name}" was closed while the call was in flight`);
    for (const flight of [...this.#flights.values()]) this.#cancel(flight, 'aborted', error);
    this.#flights.clear();
    await this.#coordinator?.close();
  }

  // ---- internals ----------------------------------------------------------------------------

  #correlationId(seq: number): string {
    return this.#idPrefix + seq.toString(36);
  }

  #isPlain(options: DedupCallOptions | undefined): boolean {
    return options === undefined && !channels.dedup.settle.hasSubscribers;
  }

  #lead<T>(
    key: string,
    fn: (signal: AbortSignal) => Promise<T>,
    options: DedupCallOptions | undefined,
    bypass: boolean,
  ): Promise<T> {
    const seq = ++this.#seq;
    const now = this.#clock.now();
    // fn that declares no parameter cannot observe a signal: skip building one (about 2 µs), unless
    // distributed mode needs it to stop waiting on other instances.
    const needsSignal = fn.length !== 0 || (this.#coordinator !== undefined && !bypass);
    const flight = new Flight<T>(key, seq, now, needsSignal ? new AbortController() : undefined, bypass);
    if (bypass) {
      this.#bypassed++;
      if (channels.dedup.bypass.hasSubscribers) {
        channels.dedup.bypass.publish({ name: this.name, key, reason: 'max-in-flight' });
      }
    } else {
      this.#leaders++;
      this.#flights.set(key, flight as Flight<unknown>);
      if (this.#sweepTimer === undefined) {
        this.#sweepTimer = this.#clock.setTimeout(this.#sweep, timerDelay(this.#timeoutMs));
      }
      if (channels.dedup.lead.hasSubscribers) {
        channels.dedup.lead.publish({ name: this.name, key, correlationId: this.#correlationId(seq) });
      }
    }
    if (this.#spans) {
      const span = startLeaderSpan();
      if (span !== undefined && isRecording(span)) {
        const id = this.#correlationId(seq);
        describeSpan(span, {
          name: this.name,
          key,
          role: 'leader',
          correlationId: id,
          leaderCorrelationId: id,
          bypassed: bypass,
        });
      }
      flight.span = span;
    }

    // Attach the caller before starting fn, so a synchronous outcome reaches it too.
    let result: Promise<T>;
    if (this.#isPlain(options)) {
      flight.plainCallers++;
      result = flight.promise;
    } else {
      result = this.#attach(new Caller(flight, 'leader', seq, now, options, undefined));
    }
    this.#start(flight, fn);
    return result;
  }

  #join<T>(flight: Flight<T>, options: DedupCallOptions | undefined): Promise<T> {
    const seq = ++this.#seq;
    this.#followers++;
    flight.followers++;
    flight.waiting++;
    if (channels.dedup.join.hasSubscribers) {
      channels.dedup.join.publish({
        name: this.name,
        key: flight.key,
        correlationId: this.#correlationId(seq),
        leaderCorrelationId: this.#correlationId(flight.seq),
      });
    }
    let span: Span | undefined;
    if (this.#spans) {
      span = startFollowerSpan(flight.span);
      if (span !== undefined && isRecording(span)) {
        describeSpan(span, {
          name: this.name,
          key: flight.key,
          role: 'follower',
          correlationId: this.#correlationId(seq),
          leaderCorrelationId: this.#correlationId(flight.seq),
          bypassed: false,
        });
      } else {
        endSpan(span, 'success');
        span = undefined;
      }
    }
    if (span === undefined && this.#share !== 'clone' && this.#isPlain(options)) {
      flight.plainCallers++;
      return flight.promise;
    }
    return this.#attach(new Caller(flight, 'follower', seq, this.#clock.now(), options, span));
  }

  #start<T>(flight: Flight<T>, fn: (signal: AbortSignal) => Promise<T>): void {
    let result: unknown;
    try {
      const signal = flight.controller === undefined ? NEVER_ABORTED : flight.controller.signal;
      const coordinator = flight.bypassed ? undefined : this.#coordinator;
      const work =
        coordinator === undefined ? fn : (s: AbortSignal) => coordinator.execute(flight.key, fn, s);
      result = isRecording(flight.span) ? runInSpan(flight.span, () => work(signal)) : work(signal);
    } catch (error) {
      this.#settle(flight, 'error', error);
      return;
    }
    if (result !== null && typeof (result as PromiseLike<T>)?.then === 'function') {
      Promise.resolve(result as PromiseLike<T>).then(
        (value) => this.#settle(flight, 'success', value),
        (error: unknown) => this.#settle(flight, 'error', error),
      );
    } else {
      // A non-promise result is taken as the value, the way `await` would.
      this.#settle(flight, 'success', result);
    }
  }

  /** The operation produced its outcome: free the key, count plain callers, wake everyone. */
  #settle<T>(flight: Flight<T>, outcome: 'success' | 'error', valueOrError: unknown): void {
    if (flight.settled) return; // already abandoned, cancelled or closed: the late outcome is dropped
    flight.settled = true;
    if (!flight.bypassed && this.#flights.get(flight.key) === flight) this.#flights.delete(flight.key);
    let value = valueOrError as T;
    let error = valueOrError;
    let ok = outcome === 'success';
    if (ok && this.#share !== 'reference') {
      try {
        if (this.#share === 'freeze') value = deepFreeze(value);
        else if (flight.followers > 0) flight.snapshot = cloneValue(value);
      } catch (e) {
        if (this.#share === 'freeze') {
          ok = false;
          error = e;
        } else {
          flight.snapshotError = e;
        }
      }
    }
    const final: DedupOutcome = ok ? 'success' : 'error';
    flight.outcome = final;
    if (ok) this.#successes += flight.plainCallers;
    else this.#errors += flight.plainCallers;
    endSpan(flight.span, final, error);
    // `flight.promise` was handed only to plain callers: with none, settling it would leave an
    // unobserved rejection behind.
    if (flight.plainCallers > 0) {
      if (ok) flight.resolve(value);
      else flight.reject(error);
    }
    this.#settleCallers(flight, final, ok ? value : error);
  }

  /** Ends a flight that did not settle by itself: abandoned, every caller aborted, or closed. */
  #cancel<T>(flight: Flight<T>, outcome: 'timeout' | 'aborted', error: Error): void {
    if (flight.settled) return;
    flight.settled = true;
    flight.outcome = outcome;
    if (!flight.bypassed && this.#flights.get(flight.key) === flight) this.#flights.delete(flight.key);
    if (outcome === 'timeout') this.#timeouts += flight.plainCallers;
    else this.#aborted += flight.plainCallers;
    flight.controller?.abort(error);
    endSpan(flight.span, outcome, error);
    if (flight.plainCallers > 0) flight.reject(error);
    this.#settleCallers(flight, outcome, error);
  }

  /** Settles every caller with options of its own that is still waiting on `flight`. */
  #settleCallers<T>(flight: Flight<T>, outcome: DedupOutcome, valueOrError: unknown): void {
    const callers = flight.callers;
    if (callers === undefined) return;
    flight.callers = undefined;
    for (const caller of callers) {
      if (caller.done) continue;
      if (outcome !== 'success') {
        this.#finish(caller, outcome, valueOrError);
        caller.reject(valueOrError);
      } else if (caller.role === 'follower' && this.#share === 'clone') {
        if (flight.snapshotError !== undefined) {
          this.#finish(caller, 'error', flight.snapshotError);
          caller.reject(flight.snapshotError);
        } else {
          this.#finish(caller, 'success', undefined);
          caller.resolve(structuredClone(flight.snapshot) as T);
        }
      } else {
        this.#finish(caller, 'success', undefined);
        caller.resolve(valueOrError as T);
      }
    }
  }

  /** The in-flight limit: abandons operations older than `timeoutMs`, oldest first (Map order). */
  #sweep = (): void => {
    this.#sweepTimer = undefined;
    const now = this.#clock.now();
    for (const flight of this.#flights.values()) {
      const due = flight.startedAt + this.#timeoutMs;
      if (due > now) {
        this.#sweepTimer = this.#clock.setTimeout(this.#sweep, timerDelay(due - now));
        return;
      }
      this.#abandoned++;
      if (channels.dedup.timeout.hasSubscribers) {
        channels.dedup.timeout.publish({
          name: this.name,
          key: flight.key,
          correlationId: this.#correlationId(flight.seq),
          role: 'leader',
          timeoutMs: this.#timeoutMs,
        });
      }
      this.#cancel(
        flight,
        'timeout',
        new PerfTimeoutError(
          `Deduplicator "${this.name}": the operation for key ${describeValue(flight.key)} did not settle ` +
            `within the in-flight limit of ${this.#timeoutMs} ms and was abandoned`,
          this.#timeoutMs,
        ),
      );
    }
  };

  /** Registers a caller with its own signal, timeout, callback, span or clone; returns its promise. */
  #attach<T>(caller: Caller<T>): Promise<T> {
    const flight = caller.flight;
    if (flight.callers === undefined) flight.callers = [caller];
    else flight.callers.push(caller);
    const signal = caller.signal;
    if (signal !== undefined) this.#aborts.add(signal, caller as Caller<unknown>);
    const timeoutMs = caller.timeoutMs;
    // A wait longer than a timer can express (~24.8 days) is bounded by the in-flight limit anyway.
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_DELAY_MS) {
      caller.timer = this.#clock.setTimeout(() => this.#callerTimedOut(caller, timeoutMs), timeoutMs);
    }
    return caller.promise;
  }

  /** A caller's signal aborted: it leaves alone; the last one out aborts the operation. */
  #callerAborted = (caller: Caller<unknown>): void => {
    if (caller.done) return;
    const error = new PerfAbortError(`Deduplicator "${this.name}": the caller aborted`, {
      cause: caller.signal?.reason,
    });
    this.#finish(caller, 'aborted', error);
    caller.reject(error);
    this.#leave(caller.flight, true);
  };

  #callerTimedOut<T>(caller: Caller<T>, timeoutMs: number): void {
    if (caller.done) return;
    caller.timer = undefined;
    const flight = caller.flight;
    const error = new PerfTimeoutError(
      `Deduplicator "${this.name}": gave up waiting for key ${describeValue(flight.key)} after ${timeoutMs} ms`,
      timeoutMs,
    );
    if (channels.dedup.timeout.hasSubscribers) {
      channels.dedup.timeout.publish({
        name: this.name,
        key: flight.key,
        correlationId: this.#correlationId(caller.seq),
        role: caller.role,
        timeoutMs,
      });
    }
    this.#finish(caller, 'timeout', error);
    caller.reject(error);
    this.#leave(flight, false);
  }

  /** Marks a caller done: stops its timer and abort listener, counts and reports its outcome. */
  #finish<T>(caller: Caller<T>, outcome: DedupOutcome, error: unknown): void {
    caller.done = true;
    if (caller.timer !== undefined) this.#clock.clearTimeout(caller.timer);
    caller.timer = undefined;
    if (caller.signal !== undefined) this.#aborts.remove(caller.signal, caller as Caller<unknown>);
    this.#count(outcome);
    this.#report(caller.flight, caller, outcome, error);
  }

  /** A waiting caller left early; when the last one left by aborting, the operation is aborted. */
  #leave<T>(flight: Flight<T>, aborted: boolean): void {
    flight.waiting--;
    if (aborted && flight.waiting === 0 && !flight.settled) {
      this.#cancel(
        flight,
        'aborted',
        new PerfAbortError(`Deduplicator "${this.name}": every caller aborted, so the operation was aborted`),
      );
    }
  }

  #count(outcome: DedupOutcome): void {
    switch (outcome) {
      case 'success':
        this.#successes++;
        break;
      case 'error':
        this.#errors++;
        break;
      case 'timeout':
        this.#timeouts++;
        break;
      case 'aborted':
        this.#aborted++;
        break;
    }
  }

  /** Publishes the settle event, ends the follower's span and tells the caller, when anyone asked. */
  #report<T>(
    flight: Flight<T>,
    caller: Pick<Caller<T>, 'role' | 'seq' | 'startedAt' | 'onSettle' | 'span'>,
    outcome: DedupOutcome,
    error: unknown,
  ): void {
    endSpan(caller.span, outcome, error);
    const onSettle = caller.onSettle;
    if (onSettle === undefined && !channels.dedup.settle.hasSubscribers) return;
    const correlationId = this.#correlationId(caller.seq);
    const leaderCorrelationId = this.#correlationId(flight.seq);
    const waitedMs = Math.max(0, this.#clock.now() - caller.startedAt);
    if (channels.dedup.settle.hasSubscribers) {
      channels.dedup.settle.publish({
        name: this.name,
        key: flight.key,
        correlationId,
        role: caller.role,
        leaderCorrelationId,
        outcome,
        durationMs: waitedMs,
      });
    }
    if (onSettle !== undefined) {
      try {
        onSettle({
          key: flight.key,
          role: caller.role,
          bypassed: flight.bypassed,
          correlationId,
          leaderCorrelationId,
          outcome,
          waitedMs,
        });
      } catch {
        // A throwing callback must not change the call's outcome or break the others.
      }
    }
  }

  /** A caller whose signal had already aborted: nothing runs, nothing is joined. */
  #rejectAborted<T>(key: string, options: DedupCallOptions): Promise<T> {
    const seq = ++this.#seq;
    const startedAt = this.#clock.now();
    const error = new PerfAbortError(`Deduplicator "${this.name}": the caller's signal had already aborted`, {
      cause: options.signal?.reason,
    });
    this.#aborted++;
    if (options.onSettle !== undefined || channels.dedup.settle.hasSubscribers) {
      const probe = new Flight<T>(key, seq, startedAt, undefined, false);
      this.#report(
        probe,
        { role: 'leader', seq, startedAt, onSettle: options.onSettle, span: undefined },
        'aborted',
        error,
      );
    }
    return Promise.reject(error);
  }
}

/** `run()` options without `onSettle` (which `runDetailed()` uses itself). */
export type DedupRunOptionsWithoutCallback = Omit<DedupCallOptions, 'onSettle'>;
