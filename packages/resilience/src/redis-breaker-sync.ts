/**
 * Breaker sharing over Redis pub/sub. Takes your ioredis client (ioredis is an optional peer: this
 * file only needs the few methods below), publishes on it and subscribes on one duplicate
 * connection shared by every breaker attached, so 10,000 keyed breakers cost one subscription.
 *
 * Pub/sub alone loses whatever happens while an instance is not listening (it is still connecting,
 * or reconnecting). So each transition is also written to one Redis hash (`<channel>:state`, field =
 * breaker name, kept `stateTtlMs`) in the same script that publishes it, and an instance whose
 * subscription becomes live (first connect, every reconnect) re-reads the states of its breakers from
 * that hash. Transitions made while this instance cannot reach Redis are remembered (the latest per
 * breaker) and published once it can, unless a newer state from another instance supersedes them.
 */
import { randomUUID } from 'node:crypto';
import {
  check,
  checkOptions,
  is,
  PerfClosedError,
  PerfConfigError,
  PerfTimeoutError,
  systemClock,
  withDefault,
} from '@perf/core';
import type { BreakerSync, BreakerSyncAttachment, SharedState } from './breaker-sync.js';

/** The subscriber side of an ioredis client (what `duplicate()` returns). */
export interface RedisSubscriberLike {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** A round trip on the subscriber connection (allowed in subscriber mode). */
  ping(): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** The part of an ioredis client used: `eval` (publish + remember), `duplicate`, its status. */
export interface RedisPublisherLike {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  duplicate(): RedisSubscriberLike;
  /** ioredis' connection status; a client without one is taken as always ready. */
  readonly status?: string;
  /** Connects a `lazyConnect` client (status `wait`): nothing is sent before it is ready. */
  connect?(): Promise<unknown>;
  on?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
}

export interface RedisBreakerSyncOptions {
  /** Your ioredis client; it is used to publish and duplicated once to subscribe. Not closed by `close()`. */
  redis: RedisPublisherLike;
  /** Pub/sub channel shared by the fleet (the state hash is `<channel>:state`). Default `perf:breaker:sync`. */
  channel?: string;
  /** Identifies this instance so it ignores its own messages. Default: a random UUID. */
  instanceId?: string;
  /** Most breakers that can attach at once (the name table is bounded). Default 100,000. */
  maxBreakers?: number;
  /** Longest `ready` waits for the subscription. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * How long a shared state stays valid for an instance that (re)connects and reads it (an older
   * one is ignored; the hash expires this long after the last transition). Default 60,000.
   */
  stateTtlMs?: number;
}

export interface RedisBreakerSyncStats {
  attached: number;
  /** Transitions published (attempts). */
  sent: number;
  /** Transitions from other instances, by message or read back on (re)connect. */
  received: number;
  /** Messages from other instances applied to a local breaker. */
  applied: number;
  /** Publish failures, failed re-reads and unreadable messages. */
  errors: number;
  /** Transitions waiting for Redis, published once it is reachable. */
  pending: number;
}

interface SyncMessage {
  v: 1;
  from: string;
  name: string;
  state: SharedState;
  /** When the transition happened (ms since the epoch). */
  at: number;
}

interface Pending {
  state: SharedState;
  at: number;
}

/** Remember the state, then publish it: one round trip, and no reader sees one without the other. */
const PUBLISH_STATE = `
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[3])
return redis.call('publish', ARGV[4], ARGV[2])`;

const READ_STATES = `return redis.call('hmget', KEYS[1], unpack(ARGV))`;

/** Names per HMGET (Lua's unpack has a stack limit of a few thousand values). */
const READ_CHUNK = 1000;

const redisCheck = check<RedisPublisherLike>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as RedisPublisherLike).eval === 'function' &&
    typeof (v as RedisPublisherLike).duplicate === 'function',
  'an ioredis client (eval, duplicate)',
);

export class RedisBreakerSync implements BreakerSync {
  readonly #redis: RedisPublisherLike;
  readonly #subscriber: RedisSubscriberLike;
  readonly #channel: string;
  readonly #stateKey: string;
  readonly #instanceId: string;
  readonly #max: number;
  readonly #connectTimeoutMs: number;
  readonly #stateTtlMs: number;
  readonly #byName = new Map<string, Set<(state: SharedState) => void>>();
  /** Latest unpublished transition per breaker name (bounded by `maxBreakers`). */
  readonly #pending = new Map<string, Pending>();
  /** Publishes in flight: name → sequence number, so a late failure never replays a stale state. */
  readonly #inFlight = new Map<string, number>();
  #seq = 0;
  #attached = 0;
  #sent = 0;
  #received = 0;
  #applied = 0;
  #errors = 0;
  #closed = false;
  #subscribing = false;
  #subscribed = false;
  #resyncing = false;
  #resyncAgain = false;
  /** The states were read back at least once since the subscription went live. */
  #readOnce = false;
  readonly #readyWaiters = new Set<(error?: Error) => void>();

  constructor(options: RedisBreakerSyncOptions) {
    const o = checkOptions('createRedisBreakerSync', options, {
      redis: redisCheck,
      channel: withDefault(is.nonEmptyString, 'perf:breaker:sync'),
      instanceId: withDefault(is.nonEmptyString, randomUUID()),
      maxBreakers: withDefault(is.positiveInteger, 100_000),
      connectTimeoutMs: withDefault(is.delayMs, 5000),
      stateTtlMs: withDefault(is.positiveInteger, 60_000),
    });
    this.#redis = o.redis;
    this.#channel = o.channel;
    this.#stateKey = `${o.channel}:state`;
    this.#instanceId = o.instanceId;
    this.#max = o.maxBreakers;
    this.#connectTimeoutMs = o.connectTimeoutMs;
    this.#stateTtlMs = o.stateTtlMs;
    this.#subscriber = this.#redis.duplicate();
    this.#subscriber.on('error', () => {
      this.#errors++;
    });
    this.#subscriber.on('message', (channel, message) => {
      if (channel === this.#channel) this.#onMessage(message);
    });
    // Ready again after a reconnect (ioredis re-subscribes by itself): read back what was missed.
    // Not subscribed yet (the first attempt failed while connecting): try again.
    this.#subscriber.on('ready', () => {
      if (this.#subscribed) this.#resync();
      else this.#subscribe();
    });
    this.#redis.on?.('ready', this.#onPublisherReady);
    if (this.#redis.status === 'wait') this.#redis.connect?.().catch(() => {});
    this.#subscribe();
  }

  /** This instance's id, as carried in its messages. */
  get instanceId(): string {
    return this.#instanceId;
  }

  /**
   * A promise that resolves once the subscription is live. Each read waits afresh: it rejects with
   * `PerfTimeoutError` when the subscription is not live within `connectTimeoutMs` of the read, and
   * with `PerfClosedError` after `close()`. You need not wait for it: transitions made before are
   * remembered and published once Redis is reachable.
   */
  get ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new PerfClosedError('RedisBreakerSync is closed'));
    if (this.#subscribed && this.#readOnce && !this.#resyncing) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        systemClock.clearTimeout(timer);
        this.#readyWaiters.delete(settle);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = systemClock.setTimeout(
        () =>
          settle(
            new PerfTimeoutError(
              `RedisBreakerSync: not subscribed within connectTimeoutMs (${this.#connectTimeoutMs} ms)`,
              this.#connectTimeoutMs,
            ),
          ),
        this.#connectTimeoutMs,
      );
      this.#readyWaiters.add(settle);
    });
  }

  /**
   * @throws {PerfClosedError} after `close()`.
   * @throws {PerfConfigError} when `maxBreakers` breakers are attached already.
   */
  attach(name: string, onRemote: (state: SharedState) => void): BreakerSyncAttachment {
    if (this.#closed) throw new PerfClosedError('RedisBreakerSync is closed');
    if (this.#attached >= this.#max) {
      throw new PerfConfigError('maxBreakers', 'was reached; detach breakers or raise it', this.#max, {
        owner: 'createRedisBreakerSync',
      });
    }
    let handlers = this.#byName.get(name);
    if (!handlers) {
      handlers = new Set();
      this.#byName.set(name, handlers);
    }
    handlers.add(onRemote);
    this.#attached++;
    let detached = false;
    return {
      publish: (state) => {
        if (detached || this.#closed) return;
        const at = Date.now();
        if (this.#publisherReady()) this.#send(name, state, at);
        else this.#remember(name, state, at);
      },
      detach: () => {
        if (detached) return;
        detached = true;
        this.#attached--;
        const set = this.#byName.get(name);
        set?.delete(onRemote);
        if (set?.size === 0) this.#byName.delete(name);
      },
    };
  }

  stats(): RedisBreakerSyncStats {
    return {
      attached: this.#attached,
      sent: this.#sent,
      received: this.#received,
      applied: this.#applied,
      errors: this.#errors,
      pending: this.#pending.size,
    };
  }

  /**
   * Unsubscribes and closes the duplicate connection; your own client stays open. Transitions still
   * waiting for Redis are dropped. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#byName.clear();
    this.#pending.clear();
    this.#redis.removeListener?.('ready', this.#onPublisherReady);
    for (const settle of [...this.#readyWaiters]) settle(new PerfClosedError('RedisBreakerSync was closed'));
    try {
      await this.#subscriber.quit();
    } catch {
      this.#subscriber.disconnect();
    }
  }

  #publisherReady(): boolean {
    const status = this.#redis.status;
    return status === undefined || status === 'ready';
  }

  #onPublisherReady = (): void => {
    if (this.#closed) return;
    if (this.#subscribed) this.#resync();
    else this.#flush();
  };

  #subscribe(): void {
    if (this.#closed || this.#subscribing || this.#subscribed) return;
    this.#subscribing = true;
    this.#subscriber.subscribe(this.#channel).then(
      () => {
        this.#subscribing = false;
        if (this.#closed) return;
        this.#subscribed = true;
        this.#resync();
      },
      () => {
        // Still connecting (offline queue off, or its retries ran out): tried again on `ready`.
        this.#subscribing = false;
        this.#errors++;
      },
    );
  }

  #remember(name: string, state: SharedState, at: number): void {
    this.#pending.delete(name); // re-inserted last: the oldest is evicted first
    if (this.#pending.size >= this.#max) {
      const oldest = this.#pending.keys().next().value as string;
      this.#pending.delete(oldest);
      this.#errors++;
    }
    this.#pending.set(name, { state, at });
  }

  #send(name: string, state: SharedState, at: number): void {
    this.#pending.delete(name); // superseded
    const message: SyncMessage = { v: 1, from: this.#instanceId, name, state, at };
    const seq = ++this.#seq;
    this.#inFlight.set(name, seq);
    this.#sent++;
    this.#redis
      .eval(PUBLISH_STATE, 1, this.#stateKey, name, JSON.stringify(message), this.#stateTtlMs, this.#channel)
      .then(
        () => {
          if (this.#inFlight.get(name) === seq) this.#inFlight.delete(name);
          this.#flush(); // Redis answers again: what failed earlier without a reconnect goes out too
        },
        () => {
          this.#errors++;
          if (this.#inFlight.get(name) !== seq) return; // a newer transition went out after this one
          this.#inFlight.delete(name);
          if (!this.#closed) this.#remember(name, state, at);
        },
      );
  }

  /** Publishes every remembered transition (when Redis is reachable). */
  #flush(): void {
    if (this.#closed || this.#pending.size === 0 || !this.#publisherReady()) return;
    for (const [name, p] of [...this.#pending]) this.#send(name, p.state, p.at);
  }

  /**
   * The subscription is live (again): read back the states of every attached breaker that were
   * published while this instance was not listening, apply the newer ones, then publish ours.
   */
  #resync(): void {
    if (this.#closed) return;
    if (this.#resyncing) {
      this.#resyncAgain = true;
      return;
    }
    if (!this.#publisherReady()) return; // done on the publisher's `ready`
    this.#resyncing = true;
    this.#bounded(this.#readBack())
      .then(
        () => this.#flush(),
        () => {
          this.#errors++; // Redis went away again: the next `ready` re-reads and flushes
        },
      )
      .finally(() => {
        this.#resyncing = false;
        this.#readOnce = true;
        // `ready` means "in step with the fleet": subscribed and read back once (or tried to).
        for (const settle of [...this.#readyWaiters]) settle();
        if (this.#resyncAgain) {
          this.#resyncAgain = false;
          this.#resync();
        }
      });
  }

  /** Rejects when `promise` takes longer than `connectTimeoutMs` (a hung server must not pin the re-read). */
  #bounded<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = systemClock.setTimeout(
        () => reject(new PerfTimeoutError('RedisBreakerSync: re-read timed out', this.#connectTimeoutMs)),
        this.#connectTimeoutMs,
      );
      promise.then(
        (value) => {
          systemClock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          systemClock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  async #readBack(): Promise<void> {
    // PONG comes after the reply to any (re)SUBSCRIBE sent before it: from here on nothing is missed.
    await this.#subscriber.ping();
    const names = [...this.#byName.keys()];
    for (let from = 0; from < names.length && !this.#closed; from += READ_CHUNK) {
      const chunk = names.slice(from, from + READ_CHUNK);
      const values = (await this.#redis.eval(READ_STATES, 1, this.#stateKey, ...chunk)) as unknown[];
      const now = Date.now();
      for (let i = 0; i < chunk.length; i++) {
        const raw = values?.[i];
        if (typeof raw !== 'string') continue;
        const message = this.#parse(raw);
        if (message === undefined || message.from === this.#instanceId) continue;
        if (typeof message.at !== 'number' || now - message.at > this.#stateTtlMs) continue;
        const ours = this.#pending.get(message.name);
        if (ours !== undefined && ours.at >= message.at) continue; // ours is newer: it goes out next
        this.#pending.delete(message.name);
        this.#received++;
        this.#apply(message);
      }
    }
  }

  #parse(raw: string): SyncMessage | undefined {
    let message: Partial<SyncMessage>;
    try {
      message = JSON.parse(raw) as Partial<SyncMessage>;
    } catch {
      this.#errors++;
      return undefined;
    }
    if (
      typeof message !== 'object' ||
      message === null ||
      message.v !== 1 ||
      typeof message.name !== 'string' ||
      (message.state !== 'open' && message.state !== 'closed')
    ) {
      this.#errors++;
      return undefined;
    }
    return message as SyncMessage;
  }

  #apply(message: SyncMessage): void {
    const handlers = this.#byName.get(message.name);
    if (!handlers) return;
    for (const handler of handlers) {
      this.#applied++;
      handler(message.state);
    }
  }

  #onMessage(raw: string): void {
    const message = this.#parse(raw);
    if (message === undefined || message.from === this.#instanceId) return;
    this.#received++;
    // A transition made here while Redis was out of reach is superseded by a newer one from elsewhere.
    const ours = this.#pending.get(message.name);
    if (ours !== undefined && typeof message.at === 'number' && message.at >= ours.at) {
      this.#pending.delete(message.name);
    }
    this.#apply(message);
  }
}

/**
 * Shares breaker open/closed transitions across instances over Redis pub/sub. Pass the result as
 * the `sync` option of `createCircuitBreaker` or `createBreakerRegistry`. Use it at once: transitions
 * made before Redis is reachable are published once it is.
 * @throws {PerfConfigError} when an option is invalid.
 */
export function createRedisBreakerSync(options: RedisBreakerSyncOptions): RedisBreakerSync {
  return new RedisBreakerSync(options);
}
