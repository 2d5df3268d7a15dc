/**
 * Distributed mode: one instance leads per key across the fleet, over Redis (ioredis).
 *
 * - Leading: `SET <lock> <token> NX PX lockTtlMs`; while `fn` runs the leader extends its lock
 *   (compare-and-`PEXPIRE`, every lockTtlMs / 3) so a crashed leader's lock lapses within lockTtlMs.
 * - Releasing: one Lua script deletes the lock only if it still holds the leader's token, then
 *   publishes the outcome on the Deduplicator's channel (delete first, so a follower that failed to take
 *   the lock is already listening when the message goes out).
 * - Following: the follower registers for the key's message *before* trying the lock, then waits. It
 *   re-tries the lock every `pollMs` (a leader that died leaves a lock that lapses), and runs `fn`
 *   locally when the wait passes `waitTimeoutMs`, the leader failed, or Redis does not answer.
 * - Re-check before leading: a lock can be free because its leader *just* released it, and that
 *   leader's result may still be on its way on the subscriber connection (Redis answered our SET on
 *   the other connection first). So after taking a lock we PING the subscriber: Redis answers in
 *   order, so once the PONG is here every message published before our SET has been read too.
 * - Connecting is not an outage: until both connections are ready for the first time, calls wait
 *   for them (one deadline, `connectTimeoutMs` after construction), then run locally as in an outage.
 *   After the first connection, a connection that is not ready means an outage: calls run locally.
 * - Values travel with `v8.serialize` (structured clone: Dates, Maps, BigInts survive); a value that
 *   cannot be serialized, or is larger than `maxResultBytes`, is not shared (followers run locally).
 */
import { randomUUID } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type { Clock, TimerHandle } from '@perf/core';
import { PerfAbortError, PerfClosedError, PerfTimeoutError } from '@perf/core';
import { clampTimerDelay as timerDelay } from '@perf/core/internal';

/** The ioredis client methods distributed mode uses (an ioredis `Redis` fits). */
export interface RedisLike {
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numKeys: number, ...args: Array<string | Buffer | number>): Promise<unknown>;
  /** ioredis' connection status; a client without one is taken as always ready. */
  readonly status?: string;
  /** Connects a `lazyConnect` client (status `wait`). */
  connect?(): Promise<unknown>;
  on?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
}

/** The subscriber connection (an ioredis `Redis`; it enters subscriber mode). */
export interface RedisSubscriberLike {
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Round trip on the subscriber connection (allowed in subscriber mode): see "Re-check before leading". */
  ping(): Promise<unknown>;
  on(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  removeListener(event: 'messageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown;
  removeListener(event: 'ready', listener: () => void): unknown;
  quit(): Promise<unknown>;
  /** ioredis' connection status; a client without one is taken as always ready. */
  readonly status?: string;
  /** Connects a `lazyConnect` client (status `wait`). */
  connect?(): Promise<unknown>;
}

export interface DistributedOptions {
  /** The ioredis client for commands (yours: it is never closed by the Deduplicator). */
  redis: RedisLike & { duplicate?: () => RedisSubscriberLike };
  /** A connection for pub/sub. Default: `redis.duplicate()`, owned and closed by the Deduplicator. */
  subscriber?: RedisSubscriberLike;
  /** Prefix of lock keys and of the channel. Default `"perf:dedup:"`. */
  prefix?: string;
  /** Lock lifetime; the leader extends it while it runs, so a dead leader is noticed within it. Default 5000. */
  lockTtlMs?: number;
  /** Longest a follower waits for the remote leader before running locally. Default: the `timeoutMs` option. */
  waitTimeoutMs?: number;
  /** How often a waiting follower re-tries the lock (to notice a dead leader). Default 250. */
  pollMs?: number;
  /** Bound on each Redis command; past it the call runs locally. Default 1000. */
  commandTimeoutMs?: number;
  /** Largest serialized result published to followers. Default 1 MiB. */
  maxResultBytes?: number;
  /** After a Redis failure, calls run locally without trying Redis for this long. Default 1000. */
  outageBackoffMs?: number;
  /**
   * How long after construction calls wait for the first connection (both clients ready) before
   * running locally as in an outage; also the bound of `ready()`. Default 5000, or half of
   * `timeoutMs` when that is shorter; must be below `timeoutMs`.
   */
  connectTimeoutMs?: number;
}

/** Counters of distributed mode, in `stats().distributed`. */
export interface DistributedStats {
  /** Operations this instance ran as the fleet-wide leader. */
  leads: number;
  /** Operations whose result came from another instance. */
  remoteResults: number;
  /** Operations run locally because the remote leader failed, died, was too slow or Redis failed. */
  fallbacks: number;
  /** Redis commands that failed or timed out. */
  redisErrors: number;
}

interface Envelope {
  k: string;
  ok: boolean;
  v?: unknown;
}

interface Waiter {
  receive(envelope: Envelope): void;
  wake(): void;
}

const RELEASE = `
local released = 0
if redis.call('get', KEYS[1]) == ARGV[1] then released = redis.call('del', KEYS[1]) end
redis.call('publish', KEYS[2], ARGV[2])
return released`;

/** Compare-and-delete without publishing: hands a lock back when this instance will not run `fn`. */
const UNLOCK = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

const EXTEND = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

/** Coordinates one Deduplicator's leaders across instances (internal; configured by `distributed`). */
export class RedisCoordinator {
  readonly #redis: RedisLike;
  readonly #subscriber: RedisSubscriberLike;
  readonly #ownsSubscriber: boolean;
  readonly #channel: string;
  readonly #lockPrefix: string;
  readonly #lockTtlMs: number;
  readonly #waitTimeoutMs: number;
  readonly #pollMs: number;
  readonly #commandTimeoutMs: number;
  readonly #maxResultBytes: number;
  readonly #clock: Clock;
  /** One waiter per key: local deduplication already leaves one caller per key per instance. */
  readonly #waiters = new Map<string, Waiter>();
  #subscribed: Promise<void> | undefined;
  /** Until when calls skip Redis after it failed (`outageBackoffMs`). */
  #downUntil = 0;
  readonly #outageBackoffMs: number;
  readonly #connectTimeoutMs: number;
  /** Calls made before the first connection wait until then at most. */
  readonly #connectDeadline: number;
  /** Both connections have been ready at least once. */
  #everConnected = false;
  /** Settles when both connections are ready (or on close); one pair of listeners for every waiter. */
  #connecting: Promise<void> | undefined;
  #wakeConnecting: (() => void) | undefined;
  #closed = false;
  readonly stats: DistributedStats = { leads: 0, remoteResults: 0, fallbacks: 0, redisErrors: 0 };

  constructor(
    options: Required<Omit<DistributedOptions, 'subscriber' | 'redis'>> & DistributedOptions,
    name: string,
    clock: Clock,
  ) {
    this.#redis = options.redis;
    if (options.subscriber !== undefined) {
      this.#subscriber = options.subscriber;
      this.#ownsSubscriber = false;
    } else {
      this.#subscriber = options.redis.duplicate!();
      this.#ownsSubscriber = true;
      // Ours, so its connection errors are ours to handle: they are counted, and commands fall back.
      this.#subscriber.on('error', () => {
        this.stats.redisErrors++;
      });
    }
    this.#channel = `${options.prefix}${name}:done`;
    this.#lockPrefix = `${options.prefix}${name}:lock:`;
    this.#lockTtlMs = options.lockTtlMs;
    this.#waitTimeoutMs = options.waitTimeoutMs;
    this.#pollMs = options.pollMs;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#maxResultBytes = options.maxResultBytes;
    this.#outageBackoffMs = options.outageBackoffMs;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#clock = clock;
    this.#connectDeadline = clock.now() + options.connectTimeoutMs;
    // ioredis' lazyConnect leaves a client idle until its first command; we wait for `ready` before
    // sending any, so connect them here.
    for (const c of [this.#redis, this.#subscriber]) {
      if (c.status === 'wait' && typeof c.connect === 'function') c.connect().catch(() => {});
    }
    if (this.#connectionsReady()) this.#everConnected = true;
    else void this.#whenConnected();
  }

  /**
   * Resolves once both connections are ready and the subscription is live; rejects with
   * `PerfTimeoutError` when that takes longer than `connectTimeoutMs` (from this call), with
   * `PerfClosedError` after close.
   */
  async ready(): Promise<void> {
    if (this.#closed) throw new PerfClosedError('Deduplicator is closed');
    const deadline = this.#clock.now() + this.#connectTimeoutMs;
    const fail = () =>
      new PerfTimeoutError(
        `Redis did not become ready within connectTimeoutMs (${this.#connectTimeoutMs} ms)`,
        this.#connectTimeoutMs,
      );
    if (!(await this.#waitConnected(deadline, undefined))) {
      if (this.#closed) throw new PerfClosedError('Deduplicator was closed while waiting for Redis');
      throw fail();
    }
    if (!(await this.#ensureSubscribed())) {
      if (this.#closed) throw new PerfClosedError('Deduplicator was closed while waiting for Redis');
      throw fail();
    }
  }

  /** The Redis key of `key`'s lock. */
  lockKey(key: string): string {
    return this.#lockPrefix + key;
  }

  /**
   * Runs `fn` once across the fleet for `key`, or takes another instance's result.
   * @throws whatever `fn` throws when this instance ran it; `signal.reason` when aborted while waiting.
   */
  async execute<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    // While Redis is failing, run locally at once instead of paying a timeout per call.
    if (this.#clock.now() < this.#downUntil) return this.#fallback(fn, signal);
    if (!this.#connectionsReady()) {
      // Connecting for the first time is not an outage: wait for it, up to the connect deadline.
      // A connection lost after that is one: run locally at once.
      if (this.#everConnected || !(await this.#waitConnected(this.#connectDeadline, signal))) {
        return this.#fallback(fn, signal);
      }
    }
    if (!(await this.#ensureSubscribed())) {
      this.#markDown();
      return this.#fallback(fn, signal);
    }
    let envelope: Envelope | undefined;
    let wake: (() => void) | undefined;
    const waiter: Waiter = {
      receive: (e) => {
        envelope = e;
        wake?.();
      },
      wake: () => wake?.(),
    };
    // Normally one per key; an abandoned call still winding down may briefly overlap a fresh one,
    // and the fresh one (registered last) is the one that should hear the result.
    this.#waiters.set(key, waiter);
    try {
      const token = randomUUID();
      const deadline = this.#clock.now() + this.#waitTimeoutMs;
      for (;;) {
        let acquired: boolean;
        try {
          acquired =
            (await this.#command(this.#redis.set(this.lockKey(key), token, 'PX', this.#lockTtlMs, 'NX'))) ===
            'OK';
        } catch {
          this.#markDown();
          return await this.#fallback(fn, signal);
        }
        if (acquired) {
          // The lock may be free because a leader just released it: make sure its result (published
          // before our SET ran) has been read before deciding to run fn. A failed PING: lead anyway.
          if (!signal.aborted && envelope === undefined) {
            await this.#command(this.#subscriber.ping()).catch(() => {});
          }
          this.#forget(key, waiter);
          const early: Envelope | undefined = envelope;
          if (signal.aborted || early !== undefined) {
            // Cancelled (or closed) while the lock request was on its way, or the outcome arrived
            // meanwhile: hand the lock straight back, telling nobody (waiters re-try the lock).
            // Awaited, so the lock is gone by the time this call settles. A failed leader means
            // "run it yourself", exactly as when its message arrives while waiting.
            await this.#command(this.#redis.eval(UNLOCK, 1, this.lockKey(key), token)).catch(() => {});
            if (signal.aborted) throw signal.reason ?? new PerfAbortError();
            if (!early!.ok) return await this.#fallback(fn, signal);
            this.stats.remoteResults++;
            return early!.v as T;
          }
          return await this.#lead(key, token, fn, signal);
        }
        if (envelope === undefined) {
          const remaining = deadline - this.#clock.now();
          if (remaining <= 0) return await this.#fallback(fn, signal);
          await this.#sleep(Math.min(this.#pollMs, remaining), signal, (w) => {
            wake = w;
          });
          wake = undefined;
        }
        if (signal.aborted) throw signal.reason ?? new PerfAbortError();
        if (envelope !== undefined) {
          const received: Envelope = envelope;
          if (!received.ok) return await this.#fallback(fn, signal);
          this.stats.remoteResults++;
          return received.v as T;
        }
      }
    } finally {
      this.#forget(key, waiter);
    }
  }

  #markDown(): void {
    this.#downUntil = this.#clock.now() + this.#outageBackoffMs;
  }

  #forget(key: string, waiter: Waiter): void {
    if (this.#waiters.get(key) === waiter) this.#waiters.delete(key);
  }

  /** Unsubscribes and closes the subscriber connection when this instance created it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeConnecting?.();
    for (const waiter of this.#waiters.values()) waiter.wake();
    this.#subscriber.removeListener('messageBuffer', this.#onMessage);
    try {
      if (this.#ownsSubscriber) await this.#subscriber.quit();
      else if (this.#subscribed !== undefined) await this.#subscriber.unsubscribe(this.#channel);
    } catch {
      // already disconnected
    }
  }

  async #lead<T>(key: string, token: string, fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal) {
    this.stats.leads++;
    let heartbeat: TimerHandle | undefined;
    const extend = (): void => {
      heartbeat = this.#clock.setTimeout(
        () => {
          this.#command(this.#redis.eval(EXTEND, 1, this.lockKey(key), token, this.#lockTtlMs)).catch(
            () => {},
          );
          extend();
        },
        timerDelay(Math.max(1, Math.floor(this.#lockTtlMs / 3))),
      );
    };
    let released = false;
    const release = (message: Buffer | undefined): void => {
      if (heartbeat !== undefined) this.#clock.clearTimeout(heartbeat);
      heartbeat = undefined;
      if (released) return;
      released = true;
      // Release, then tell the followers (they run locally on `ok: false`).
      const payload = message ?? this.#encode({ k: key, ok: false });
      this.#command(this.#redis.eval(RELEASE, 2, this.lockKey(key), this.#channel, token, payload!)).catch(
        () => {},
      );
    };
    // Abandoned (in-flight limit), every caller gone, or closed: an `fn` that ignores its signal must
    // not keep the fleet-wide lock alive, so stop extending it and hand it back now.
    const onAbort = (): void => release(undefined);
    extend();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    let message: Buffer | undefined;
    try {
      const value = await fn(signal);
      if (!released) message = this.#encode({ k: key, ok: true, v: value });
      return value;
    } finally {
      signal.removeEventListener('abort', onAbort);
      release(message);
    }
  }

  #encode(envelope: Envelope): Buffer | undefined {
    try {
      const buffer = serialize(envelope);
      if (buffer.byteLength <= this.#maxResultBytes) return buffer;
    } catch {
      // not serializable: fall through to "not shared"
    }
    return envelope.ok ? this.#encode({ k: envelope.k, ok: false }) : undefined;
  }

  #onMessage = (channel: Buffer, message: Buffer): void => {
    if (channel.toString() !== this.#channel) return;
    let envelope: Envelope;
    try {
      envelope = deserialize(message) as Envelope;
    } catch {
      return; // not ours, or corrupt: ignore
    }
    if (typeof envelope?.k !== 'string') return;
    this.#waiters.get(envelope.k)?.receive(envelope);
  };

  /** Both connections are ready now (a client that reports no status counts as ready). */
  #connectionsReady(): boolean {
    const a = this.#redis.status;
    const b = this.#subscriber.status;
    return (a === undefined || a === 'ready') && (b === undefined || b === 'ready');
  }

  /** Settles when both connections are ready, or on close. */
  #whenConnected(): Promise<void> {
    if (this.#connecting !== undefined) return this.#connecting;
    this.#connecting = new Promise<void>((resolve) => {
      const onReady = (): void => {
        if (!this.#closed && !this.#connectionsReady()) return;
        stop();
        if (!this.#closed) this.#everConnected = true;
        resolve();
      };
      const stop = (): void => {
        this.#redis.removeListener?.('ready', onReady);
        this.#subscriber.removeListener('ready', onReady);
        this.#wakeConnecting = undefined;
        this.#connecting = undefined;
      };
      this.#wakeConnecting = onReady;
      this.#redis.on?.('ready', onReady);
      this.#subscriber.on('ready', onReady);
    });
    return this.#connecting;
  }

  /** True once both connections are ready; false at `deadline`, on abort or on close. */
  #waitConnected(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#connectionsReady()) {
      this.#everConnected = true;
      return Promise.resolve(true);
    }
    const remaining = deadline - this.#clock.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        resolve(!this.#closed && this.#connectionsReady());
      };
      const timer = this.#clock.setTimeout(finish, timerDelay(remaining));
      signal?.addEventListener('abort', finish, { once: true });
      this.#whenConnected().then(finish);
    });
  }

  async #ensureSubscribed(): Promise<boolean> {
    if (this.#closed) return false;
    this.#subscribed ??= (async () => {
      this.#subscriber.on('messageBuffer', this.#onMessage);
      await this.#command(this.#subscriber.subscribe(this.#channel));
    })();
    try {
      await this.#subscribed;
      return true;
    } catch {
      this.#subscribed = undefined; // try again next time
      this.#subscriber.removeListener('messageBuffer', this.#onMessage);
      return false;
    }
  }

  async #fallback<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw signal.reason ?? new PerfAbortError();
    this.stats.fallbacks++;
    return fn(signal);
  }

  /** Bounds a Redis command by `commandTimeoutMs`; failures are counted. */
  #command<R>(promise: Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const timer = this.#clock.setTimeout(() => {
        settled = true;
        this.stats.redisErrors++;
        reject(new PerfTimeoutError('Redis command timed out', this.#commandTimeoutMs));
      }, timerDelay(this.#commandTimeoutMs));
      promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          this.#clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.#clock.clearTimeout(timer);
          this.stats.redisErrors++;
          reject(error);
        },
      );
    });
  }

  /** Waits `ms`, or until woken (a message arrived) or aborted. */
  #sleep(ms: number, signal: AbortSignal, setWake: (wake: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, timerDelay(ms));
      signal.addEventListener('abort', done, { once: true });
      setWake(done);
    });
  }
}
