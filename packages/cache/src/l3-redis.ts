/**
 * L3: shared, persistent, on Redis through ioredis (a `Redis` or a `Cluster`). Every call has one
 * deadline, `commandTimeoutMs`, that covers everything it waits for:
 * - a client connecting for the first time is not an outage: a call waits for that first `ready`
 *   within its deadline; if it does not come, the call fails and later ones skip Redis at once
 *   until it does (the cache remembers what Redis missed and replays it on that first `ready`);
 * - a client that was ready and is down again (reconnecting) is skipped at once, so ioredis'
 *   offline queue never grows through us;
 * - the first call that times out marks Redis unhealthy at once (without a breaker): later calls
 *   skip it until a background PING answers, instead of each waiting out its own deadline.
 * Calls go through the optional circuit breaker. A failed call resolves to `UNAVAILABLE`; nothing
 * here throws to the cache.
 */
import {
  type CircuitBreaker,
  type Clock,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  PerfTimeoutError,
} from '@perf/core';
import { type Cluster, Redis } from 'ioredis';
import { DeadlineQueue } from './deadline-queue.js';
import { endSpan, startRedisSpan } from './tracing.js';

/** A Redis call that did not happen or did not finish in time. */
export const UNAVAILABLE: unique symbol = Symbol('unavailable');
export type Unavailable = typeof UNAVAILABLE;

export type RedisFailureKind = 'timeout' | 'unavailable' | 'other';

type Client = Redis | Cluster;

interface GetBatch {
  keys: string[];
  resolvers: Array<(value: Buffer | null | Unavailable) => void>;
}

/** Most keys in one batched MGET. */
const MAX_BATCH = 500;

/**
 * Replays a write (ARGV[2] = bytes, ARGV[3] = PX) or a delete (ARGV[2] = '') that missed Redis,
 * unless the value Redis holds now was created at or after ARGV[1] (another instance's newer
 * write wins). Reads the createdAt float64 at bytes 4..11 of an entry (see envelope.ts).
 */
const REPLAY_SCRIPT = `local cur = redis.call("get", KEYS[1])
if cur and string.len(cur) >= 37 and string.byte(cur, 1) == 80 and string.byte(cur, 2) == 67 then
  local created = struct.unpack(">d", string.sub(cur, 4, 11))
  if created >= tonumber(ARGV[1]) then return 0 end
end
if ARGV[2] == "" then redis.call("del", KEYS[1]) else redis.call("set", KEYS[1], ARGV[2], "PX", ARGV[3]) end
return 1`;

/** Deletes the lock only when it still holds our token (never someone else's lock). */
const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export interface RedisTierOptions {
  redis: Client | string;
  namespace: string;
  ttlMs: number;
  commandTimeoutMs: number;
  clock: Clock;
  breaker: CircuitBreaker | undefined;
  onFailure: (operation: string, kind: RedisFailureKind, error: unknown, key?: string) => void;
  /**
   * Called when Redis answers after having missed calls: on the first `ready` (`first` true), on a
   * reconnect, or when a PING answers after a timeout marked Redis unhealthy (the cache re-syncs).
   */
  onReconnect: (first: boolean) => void;
}

/** A call skipped because its deadline passed while it waited for the first connection. */
class NotReadyError extends Error {}

function isCluster(client: Client): client is Cluster {
  return typeof (client as Cluster).nodes === 'function';
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

export class RedisTier {
  readonly client: Client;
  readonly ttlMs: number;
  readonly commandTimeoutMs: number;
  readonly #owned: boolean;
  readonly #namespace: string;
  readonly #valuePrefix: string;
  readonly #tagPrefix: string;
  readonly #lockPrefix: string;
  readonly #clock: Clock;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #onFailure: RedisTierOptions['onFailure'];
  readonly #onReconnect: (first: boolean) => void;
  /** One timer for every in-flight command's `commandTimeoutMs`. */
  readonly #deadlines: DeadlineQueue;
  #wasDown = false;
  #closed = false;
  /** The client has been ready at least once. */
  #everReady = false;
  /** A call waited its whole deadline for the first connection: later calls skip until it comes. */
  #firstWaitOver = false;
  /** False after a command timed out (no breaker given), until a background PING answers. */
  #healthy = true;
  #probing = false;
  /** Calls waiting for the first `ready`, released by it (or by close). */
  readonly #firstWaiters = new Set<(ok: boolean) => void>();
  readonly #onClose = () => {
    this.#wasDown = true;
  };
  readonly #onReady = () => {
    if (this.#closed) return;
    const first = !this.#everReady;
    this.#everReady = true;
    this.#firstWaitOver = false;
    this.#healthy = true;
    for (const release of [...this.#firstWaiters]) release(true);
    if (first || this.#wasDown) {
      this.#wasDown = false;
      this.#onReconnect(first);
    }
  };
  readonly #onError = (error: unknown) => {
    this.#onFailure('connection', 'unavailable', error);
  };

  constructor(options: RedisTierOptions) {
    this.ttlMs = options.ttlMs;
    this.commandTimeoutMs = options.commandTimeoutMs;
    this.#namespace = options.namespace;
    this.#valuePrefix = `${options.namespace}:v:`;
    this.#tagPrefix = `${options.namespace}:t:`;
    this.#lockPrefix = `${options.namespace}:l:`;
    this.#clock = options.clock;
    this.#deadlines = new DeadlineQueue(options.clock, options.commandTimeoutMs);
    this.#breaker = options.breaker;
    this.#onFailure = options.onFailure;
    this.#onReconnect = options.onReconnect;
    if (typeof options.redis === 'string') {
      this.#owned = true;
      // No ioredis auto-pipelining (it defers every command by a setImmediate); concurrent reads
      // are batched into MGET here instead. Command time is bounded by `run`, not per command.
      this.client = new Redis(options.redis, {
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 4), 500),
      });
      this.client.on('error', this.#onError);
    } else {
      this.#owned = false;
      this.client = options.redis;
    }
    // A client made with `lazyConnect` waits for its first command; the cache skips Redis until
    // it is ready, so connect it now.
    if (this.client.status === 'wait') {
      this.client.connect().catch((error: unknown) => this.#onFailure('connect', 'unavailable', error));
    }
    this.#everReady = this.client.status === 'ready';
    this.client.on('close', this.#onClose);
    this.client.on('end', this.#onClose);
    this.client.on('ready', this.#onReady);
  }

  /** Resolves true once the client is ready, false if it is not within `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean) => {
        this.#clock.clearTimeout(timer);
        this.client.off('ready', onReady);
        this.#waiters.delete(finish);
        resolve(ok);
      };
      const onReady = () => finish(!this.#closed);
      const timer = this.#clock.setTimeout(() => finish(this.ready), timeoutMs);
      this.client.on('ready', onReady);
      this.#waiters.add(finish);
    });
  }

  /** Pending `waitReady` calls; `close()` settles them (false) and drops their listener and timer. */
  readonly #waiters = new Set<(ok: boolean) => void>();

  /** True while the client can take commands right now (connected, and no timeout since the last answer). */
  get ready(): boolean {
    return !this.#closed && this.client.status === 'ready' && this.#healthy;
  }

  /** True while a call may go to Redis: it is ready, or connecting for the first time within a call's deadline. */
  get usable(): boolean {
    return this.ready || this.#waitsForFirst();
  }

  #waitsForFirst(): boolean {
    return !this.#closed && !this.#everReady && !this.#firstWaitOver;
  }

  /**
   * Calls `then` once the first `ready` comes (true) or the cache closes (false); returns how to
   * stop waiting (a call whose deadline passed gives up its place).
   */
  #whenFirstReady(then: (ok: boolean) => void): () => void {
    const release = (ok: boolean) => {
      this.#firstWaiters.delete(release);
      then(ok);
    };
    this.#firstWaiters.add(release);
    return () => this.#firstWaiters.delete(release);
  }

  /** After a timeout: skip Redis until one PING answers (late answers count: Redis is back). */
  #markUnhealthy(): void {
    if (this.#breaker !== undefined || !this.#healthy || this.#closed) return;
    this.#healthy = false;
    this.#probe();
  }

  #probe(): void {
    if (this.#probing || this.#closed || this.#healthy) return;
    this.#probing = true;
    const again = () => {
      this.#probing = false;
      if (this.#closed || this.#healthy) return;
      this.#clock.setTimeout(() => this.#probe(), Math.min(this.commandTimeoutMs, 250));
    };
    if (this.client.status !== 'ready') {
      // Down altogether: the next 'ready' restores health (see #onReady); look again later.
      again();
      return;
    }
    this.client.ping().then(
      () => {
        this.#probing = false;
        if (this.#closed || this.#healthy) return;
        this.#healthy = true;
        for (const finish of [...this.#waiters]) finish(true);
        this.#onReconnect(false);
      },
      () => again(),
    );
  }

  /**
   * Runs one bounded command. Resolves to its result, or `UNAVAILABLE` when the client is not
   * ready, the breaker refuses, the command fails or it outlives `commandTimeoutMs`.
   */
  async run<T>(
    operation: string,
    key: string | undefined,
    command: () => Promise<T>,
  ): Promise<T | Unavailable> {
    const waitFirst = !this.ready && this.client.status !== 'ready' && this.#waitsForFirst();
    if (!this.ready && !waitFirst) {
      this.#onFailure(
        operation,
        'unavailable',
        new Error(`Redis is not ready (status ${this.client.status})`),
        key,
      );
      return UNAVAILABLE;
    }
    const span = startRedisSpan(operation, this.#namespace);
    try {
      const result =
        this.#breaker === undefined
          ? await this.#bounded(operation, command, waitFirst)
          : await this.#breaker.execute(() => this.#bounded(operation, command, waitFirst));
      endSpan(span);
      return result;
    } catch (error) {
      endSpan(span, error);
      if (error instanceof PerfTimeoutError) {
        // Still not connected for the first time: later calls skip at once until it comes.
        if (!this.#everReady) this.#firstWaitOver = true;
        else this.#markUnhealthy();
      }
      const kind: RedisFailureKind =
        error instanceof NotReadyError || (error instanceof PerfTimeoutError && !this.#everReady)
          ? 'unavailable'
          : error instanceof PerfTimeoutError
            ? 'timeout'
            : isBrokenCircuitError(error) || isIsolatedCircuitError(error) || !this.ready
              ? 'unavailable'
              : 'other';
      this.#onFailure(operation, kind, error, key);
      return UNAVAILABLE;
    }
  }

  /** Runs `command` within one deadline, which also covers waiting for the first connection. */
  #bounded<T>(operation: string, command: () => Promise<T>, waitFirst = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let abandon: (() => void) | undefined;
      const ticket = this.#deadlines.track(() => {
        abandon?.();
        const ms = this.commandTimeoutMs;
        reject(
          new PerfTimeoutError(
            this.#everReady
              ? `Redis ${operation} took longer than ${ms} ms`
              : `Redis did not connect within ${ms} ms (${operation} skipped)`,
            ms,
          ),
        );
      });
      const start = () =>
        command().then(
          (value) => {
            ticket.done = true;
            resolve(value);
          },
          (error: unknown) => {
            ticket.done = true;
            reject(error);
          },
        );
      if (!waitFirst || this.client.status === 'ready') {
        start();
        return;
      }
      abandon = this.#whenFirstReady((ok) => {
        if (ticket.done) return; // the deadline passed first: the command is never sent
        if (ok && this.client.status === 'ready') start();
        else {
          ticket.done = true;
          reject(new NotReadyError(`Redis is not ready (status ${this.client.status})`));
        }
      });
    });
  }

  /**
   * Reads one value. Reads issued in the same tick are batched into one MGET (one round trip for
   * many concurrent misses); a lone read is a plain GET, so sequential reads pay no batching delay.
   */
  get(key: string): Promise<Buffer | null | Unavailable> {
    return new Promise((resolve) => {
      let batch = this.#batch;
      if (batch === undefined) {
        batch = { keys: [], resolvers: [] };
        this.#batch = batch;
        process.nextTick(this.#flush);
      }
      batch.keys.push(key);
      batch.resolvers.push(resolve);
      if (batch.keys.length >= MAX_BATCH) this.#flush();
    });
  }

  #batch: GetBatch | undefined;

  readonly #flush = (): void => {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    const { keys, resolvers } = batch;
    if (keys.length === 1 || isCluster(this.client)) {
      // Cluster: keys may live in different slots, so no MGET; ioredis routes each GET.
      for (let i = 0; i < keys.length; i++) {
        const full = this.#valuePrefix + keys[i]!;
        this.run('get', keys[i], () => this.client.getBuffer(full)).then(resolvers[i]!);
      }
      return;
    }
    const fulls = keys.map((k) => this.#valuePrefix + k);
    this.run('mget', undefined, () => this.client.mgetBuffer(...fulls)).then((values) => {
      for (let i = 0; i < resolvers.length; i++) {
        resolvers[i]!(values === UNAVAILABLE ? UNAVAILABLE : (values[i] ?? null));
      }
    });
  };

  async set(key: string, bytes: Uint8Array, ttlMs: number): Promise<boolean> {
    const full = this.#valuePrefix + key;
    const px = Math.max(1, Math.ceil(ttlMs));
    const result = await this.run('set', key, () =>
      this.client.set(full, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', px),
    );
    return result !== UNAVAILABLE;
  }

  /** Deletes one key; resolves to whether it existed, or `UNAVAILABLE`. */
  async delete(key: string): Promise<boolean | Unavailable> {
    const full = this.#valuePrefix + key;
    const result = await this.run('del', key, () => this.client.del(full));
    return result === UNAVAILABLE ? UNAVAILABLE : result > 0;
  }

  /**
   * Replays a write (`bytes`) or a delete (`bytes` undefined) stamped `at` that missed Redis, unless
   * Redis now holds a value created at or after `at`. Resolves false when Redis failed again.
   */
  async replay(key: string, at: number, bytes: Uint8Array | undefined, ttlMs: number): Promise<boolean> {
    const full = this.#valuePrefix + key;
    const value = bytes === undefined ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const px = String(Math.max(1, Math.ceil(ttlMs)));
    const result = await this.run('replay', key, () =>
      this.client.eval(REPLAY_SCRIPT, 1, full, String(at), value, px),
    );
    return result !== UNAVAILABLE;
  }

  /** Invalidation times of `tags` (0 for a tag never invalidated), or `UNAVAILABLE`. */
  async tagTimes(tags: readonly string[]): Promise<number[] | Unavailable> {
    const result = await this.run('tags.get', undefined, () =>
      Promise.all(tags.map((tag) => this.client.get(this.#tagPrefix + tag))),
    );
    if (result === UNAVAILABLE) return UNAVAILABLE;
    return result.map((v) => (v === null ? 0 : Number(v) || 0));
  }

  /** Records that `tags` were invalidated at `at`; kept as long as any entry can live. */
  async invalidateTags(tags: readonly string[], at: number, keepMs: number): Promise<boolean> {
    const px = Math.max(1, Math.ceil(keepMs));
    const result = await this.run('tags.set', undefined, () =>
      Promise.all(tags.map((tag) => this.client.set(this.#tagPrefix + tag, String(at), 'PX', px))),
    );
    return result !== UNAVAILABLE;
  }

  /**
   * Deletes every value key starting with `prefix` (`''`: the whole namespace, tags included)
   * with SCAN + UNLINK in batches (never KEYS), on every master of a cluster.
   */
  async deletePrefix(prefix: string): Promise<boolean> {
    const patterns =
      prefix === ''
        ? [`${escapeGlob(this.#valuePrefix)}*`, `${escapeGlob(this.#tagPrefix)}*`]
        : [`${escapeGlob(this.#valuePrefix + prefix)}*`];
    const nodes: Redis[] = isCluster(this.client) ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      for (const pattern of patterns) {
        let cursor = '0';
        do {
          const page = await this.run('scan', undefined, () =>
            node.scan(cursor, 'MATCH', pattern, 'COUNT', 500),
          );
          if (page === UNAVAILABLE) return false;
          cursor = page[0];
          const keys = page[1];
          if (keys.length > 0) {
            const removed = await this.run('unlink', undefined, async () => {
              if (isCluster(this.client)) await Promise.all(keys.map((k) => node.unlink(k)));
              else await node.unlink(...keys);
            });
            if (removed === UNAVAILABLE) return false;
          }
        } while (cursor !== '0');
      }
    }
    return true;
  }

  /** SET NX PX: true when the lock is ours, false when another holder has it. */
  async acquireLock(key: string, token: string, ttlMs: number): Promise<boolean | Unavailable> {
    const full = this.#lockPrefix + key;
    const result = await this.run('lock.acquire', key, () =>
      this.client.set(full, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
    );
    return result === UNAVAILABLE ? UNAVAILABLE : result === 'OK';
  }

  /** Compare-and-delete (Lua): releases the lock only if it still holds `token`. */
  async releaseLock(key: string, token: string): Promise<boolean> {
    const full = this.#lockPrefix + key;
    const result = await this.run('lock.release', key, () =>
      this.client.eval(RELEASE_SCRIPT, 1, full, token),
    );
    return result === 1;
  }

  publish(channel: string, message: string): Promise<number | Unavailable> {
    return this.run('publish', undefined, () => this.client.publish(channel, message));
  }

  /** Stops listening; closes the client only when the cache created it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#deadlines.expireAll();
    for (const finish of [...this.#waiters]) finish(false);
    for (const release of [...this.#firstWaiters]) release(false);
    this.client.off('close', this.#onClose);
    this.client.off('end', this.#onClose);
    this.client.off('ready', this.#onReady);
    if (this.#owned) {
      // The error listener stays: a late socket error must not become an unhandled 'error' event.
      this.client.disconnect();
    }
  }
}
