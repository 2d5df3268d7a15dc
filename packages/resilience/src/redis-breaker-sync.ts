/**
 * Breaker sharing over Redis pub/sub. Takes your ioredis client (ioredis is an optional peer: this
 * file only needs the few methods below), publishes on it and subscribes on one duplicate
 * connection shared by every breaker attached, so 10,000 keyed breakers cost one subscription.
 */
import { randomUUID } from 'node:crypto';
import { check, checkOptions, is, PerfClosedError, PerfConfigError, withDefault } from '@perf/core';
import type { BreakerSync, BreakerSyncAttachment, SharedState } from './breaker-sync.js';

/** The subscriber side of an ioredis client (what `duplicate()` returns). */
export interface RedisSubscriberLike {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** The part of an ioredis client used: `publish` and `duplicate`. */
export interface RedisPublisherLike {
  publish(channel: string, message: string): Promise<unknown>;
  duplicate(): RedisSubscriberLike;
}

export interface RedisBreakerSyncOptions {
  /** Your ioredis client; it is used to publish and duplicated once to subscribe. Not closed by `close()`. */
  redis: RedisPublisherLike;
  /** Pub/sub channel shared by the fleet. Default `perf:breaker:sync`. */
  channel?: string;
  /** Identifies this instance so it ignores its own messages. Default: a random UUID. */
  instanceId?: string;
  /** Most breakers that can attach at once (the name table is bounded). Default 100,000. */
  maxBreakers?: number;
}

export interface RedisBreakerSyncStats {
  attached: number;
  sent: number;
  received: number;
  /** Messages from other instances applied to a local breaker. */
  applied: number;
  /** Publish failures and unreadable messages. */
  errors: number;
}

interface SyncMessage {
  v: 1;
  from: string;
  name: string;
  state: SharedState;
}

const redisCheck = check<RedisPublisherLike>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as RedisPublisherLike).publish === 'function' &&
    typeof (v as RedisPublisherLike).duplicate === 'function',
  'an ioredis client (publish, duplicate)',
);

export class RedisBreakerSync implements BreakerSync {
  readonly #redis: RedisPublisherLike;
  readonly #subscriber: RedisSubscriberLike;
  readonly #channel: string;
  readonly #instanceId: string;
  readonly #max: number;
  readonly #byName = new Map<string, Set<(state: SharedState) => void>>();
  #attached = 0;
  #sent = 0;
  #received = 0;
  #applied = 0;
  #errors = 0;
  #closed = false;
  /** Resolves once the subscription is live (rejects if it could not be made). */
  readonly ready: Promise<void>;

  constructor(options: RedisBreakerSyncOptions) {
    const o = checkOptions('createRedisBreakerSync', options, {
      redis: redisCheck,
      channel: withDefault(is.nonEmptyString, 'perf:breaker:sync'),
      instanceId: withDefault(is.nonEmptyString, randomUUID()),
      maxBreakers: withDefault(is.positiveInteger, 100_000),
    });
    this.#redis = o.redis;
    this.#channel = o.channel;
    this.#instanceId = o.instanceId;
    this.#max = o.maxBreakers;
    this.#subscriber = this.#redis.duplicate();
    this.#subscriber.on('error', () => {
      this.#errors++;
    });
    this.#subscriber.on('message', (channel, message) => {
      if (channel === this.#channel) this.#onMessage(message);
    });
    this.ready = this.#subscriber.subscribe(this.#channel).then(() => undefined);
    // A failed subscription is reported through `ready`; never leave it unhandled.
    this.ready.catch(() => {
      this.#errors++;
    });
  }

  /** This instance's id, as carried in its messages. */
  get instanceId(): string {
    return this.#instanceId;
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
        const message: SyncMessage = { v: 1, from: this.#instanceId, name, state };
        this.#sent++;
        this.#redis.publish(this.#channel, JSON.stringify(message)).catch(() => {
          this.#errors++;
        });
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
    };
  }

  /** Unsubscribes and closes the duplicate connection; your own client stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#byName.clear();
    try {
      await this.#subscriber.quit();
    } catch {
      this.#subscriber.disconnect();
    }
  }

  #onMessage(raw: string): void {
    let message: Partial<SyncMessage>;
    try {
      message = JSON.parse(raw) as Partial<SyncMessage>;
    } catch {
      this.#errors++;
      return;
    }
    if (
      typeof message !== 'object' ||
      message === null ||
      message.v !== 1 ||
      typeof message.name !== 'string' ||
      (message.state !== 'open' && message.state !== 'closed')
    ) {
      this.#errors++;
      return;
    }
    if (message.from === this.#instanceId) return;
    this.#received++;
    const handlers = this.#byName.get(message.name);
    if (!handlers) return;
    for (const handler of handlers) {
      this.#applied++;
      handler(message.state);
    }
  }
}

/**
 * Shares breaker open/closed transitions across instances over Redis pub/sub. Pass the result as
 * the `sync` option of `createCircuitBreaker` or `createBreakerRegistry`.
 * @throws {PerfConfigError} when an option is invalid.
 */
export function createRedisBreakerSync(options: RedisBreakerSyncOptions): RedisBreakerSync {
  return new RedisBreakerSync(options);
}
