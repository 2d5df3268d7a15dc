/**
 * The state one `createCache` call builds and its scopes share: the tiers, the tag registry, the
 * bus, the counters, and the tier-walking read and write paths. `TieredCache` is the public view
 * over it (a key prefix plus the public methods).
 */
import { randomUUID } from 'node:crypto';
import {
  type CacheErrorEvent,
  type CacheTier,
  type Clock,
  channels,
  type Deduplicator,
  PerfClosedError,
} from '@perf/core';
import { Deduplicator as DedupDeduplicator } from '@perf/dedup';
import { type BusMessage, CacheBus } from './bus.js';
import { withSoftTimeout } from './clock-waits.js';
import { CacheEntry } from './entry.js';
import { CorruptEntryError, decodeEntry, encodeEntry } from './envelope.js';
import { MemoryTier } from './l1-memory.js';
import { KeyvTier } from './l2-keyv.js';
import { type RedisFailureKind, RedisTier, UNAVAILABLE } from './l3-redis.js';
import type { ResolvedOptions } from './options.js';
import { PendingSync } from './pending-sync.js';
import { createMsgpackSerializer, type Serializer } from './serializer.js';
import { CacheCounters } from './stats.js';
import { TagRegistry } from './tag-registry.js';

const ch = channels.cache;

/** What a read found: a fresh entry, or (when asked for) one only servable from grace. */
export interface Found {
  entry: CacheEntry;
  fresh: boolean;
  tier: CacheTier;
}

/** Everything a write needs besides the key and value. */
export interface WriteSpec {
  ttlMs: number;
  graceMs: number;
  tags: readonly string[] | undefined;
  /** The stamp the value counts as created at (a factory's start, so invalidations during it win). */
  createdAt: number;
  reason: 'set' | 'factory' | 'backfill' | 'warm' | 'refresh';
}

/** Keys recently written or deleted, remembered so a factory that started earlier does not overwrite them. */
const MAX_TOUCHED = 10_000;
/**
 * L1 lifetime (and the staleness bound) while no bus notice can reach this instance: bus down or not
 * yet subscribed, or no bus with a tier other instances write to.
 */
export const SHORT_L1_MS = 100;
/** How soon a re-sync that failed part-way is tried again on an answered call (see `#resyncSoon`). */
const RESYNC_RETRY_MS = 1_000;
/** Missed writes replayed at once after an outage. */
const REPLAY_CHUNK = 64;
/** Most background refreshes (eager or soft-timeout) in flight at once. */
export const MAX_REFRESHING = 1_000;

export class CacheCore {
  readonly namespace: string;
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly l1: MemoryTier | undefined;
  readonly l2: KeyvTier | undefined;
  readonly l3: RedisTier | undefined;
  readonly bus: CacheBus | undefined;
  readonly serializer: Serializer;
  readonly tags: TagRegistry;
  readonly counters = new CacheCounters();
  readonly dedup: Deduplicator;
  readonly tierNames: readonly CacheTier[];
  readonly abort = new AbortController();
  /** Keys with a background refresh in flight (bounded by MAX_REFRESHING). */
  readonly refreshing = new Set<string>();
  /** Longest any copy of an entry can live in any tier: how long tag times must be kept. */
  readonly maxLifetimeMs: number;
  readonly instanceId = randomUUID();
  closed = false;

  #lastStamp = Number.NEGATIVE_INFINITY;
  /** key → stamp of its last local write/delete (or bus notice of one). FIFO-bounded; see `#touchFloor`. */
  readonly #touched = new Map<string, number>();
  /** Writes or deletes older than this may have been forgotten from `#touched`; also raised by clear/prefix. */
  #touchFloor = Number.NEGATIVE_INFINITY;
  /** What Redis missed (failed writes, deletes, prefix deletes, tag times); L3 is not read for those keys until re-synced. */
  readonly #pending: PendingSync;
  #resyncing: Promise<void> | undefined;
  /** When the last re-sync failed part-way (−Infinity after a complete one). */
  #resyncFailedAt = Number.NEGATIVE_INFINITY;
  /** The Deduplicator the cache created (closed with it), when none was given. */
  readonly #ownDedup: DedupDeduplicator | undefined;
  /** L1 lifetime while the bus keeps L1 coherent (or nothing else can change the data). */
  readonly #l1LongMs: number;
  /** L1 lifetime while nothing tells this instance about other instances' writes: the staleness bound. */
  readonly #l1ShortMs: number;
  /** True when L1 (and an in-process L2) follow the bus: long while subscribed, short otherwise. */
  readonly #followsBus: boolean;
  /** L2 is the default in-process store (not a store shared with others or on disk). */
  readonly #l2InProcess: boolean;
  /** Redis write-backs and bus notices still running after the call that made them returned. */
  readonly #background = new Set<Promise<unknown>>();
  /** key → its Redis write still in flight (a lock holder releases the lock only once it landed). */
  readonly #writeBacks = new Map<string, Promise<unknown>>();

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.namespace = options.namespace;
    this.clock = options.clock;
    this.serializer = options.serializer ?? createMsgpackSerializer();
    this.tags = new TagRegistry(options.maxTags);
    this.#pending = new PendingSync(options.maxPendingSync);
    if (options.deduplicator === undefined) {
      this.#ownDedup = new DedupDeduplicator({
        name: `cache:${options.namespace}`,
        clock: options.clock,
        maxInFlight: 10_000,
      });
      this.dedup = this.#ownDedup;
    } else {
      this.dedup = options.deduplicator;
    }
    this.#l2InProcess = options.l2 !== false && options.l2.store === undefined;
    // Something other than this process can change what L1 holds: Redis, or an L2 store of yours.
    const shared = options.l3 !== undefined || (options.l2 !== false && !this.#l2InProcess);
    const userL1 = options.l1 === false ? undefined : options.l1.ttlMs;
    this.#followsBus = options.l3 !== undefined && options.bus;
    this.#l1LongMs = userL1 ?? (shared && !this.#followsBus ? SHORT_L1_MS : Number.POSITIVE_INFINITY);
    this.#l1ShortMs = this.#followsBus ? Math.min(userL1 ?? SHORT_L1_MS, SHORT_L1_MS) : this.#l1LongMs;
    const tiers: CacheTier[] = [];
    if (options.l1 !== false) {
      tiers.push('l1');
      this.l1 = new MemoryTier({
        maxEntries: options.l1.maxEntries,
        maxBytes: options.l1.maxBytes,
        ttlMs: this.#l1LongMs,
      });
      // The long lifetime is a lease on proven bus liveness (see CacheBus and MemoryTier.renew): a
      // stalled Redis keeps the subscription open but delivers nothing, so only a recent PING reply
      // shows that no invalidation is waiting.
      if (this.#followsBus) this.l1.leaseUntil = 0;
    }
    if (options.l2 !== false) {
      tiers.push('l2');
      this.l2 = new KeyvTier({
        store: options.l2.store,
        ttlMs: options.l2.ttlMs,
        maxEntries: options.l2.maxEntries,
        namespace: options.namespace,
        onError: (error) => this.reportError('l2', 'store', 'other', error),
      });
    }
    if (options.l3 !== undefined) {
      tiers.push('l3');
      this.l3 = new RedisTier({
        redis: options.l3.redis,
        namespace: options.namespace,
        ttlMs: options.l3.ttlMs,
        commandTimeoutMs: options.l3.commandTimeoutMs,
        clock: options.clock,
        breaker: options.circuitBreaker,
        onFailure: (operation, kind, error, key) => this.#onRedisFailure(operation, kind, error, key),
        onReconnect: (first) => {
          // On the first connection there is only something to do if calls made before it missed Redis.
          if (!first || !this.#pending.empty) void this.resync();
        },
      });
      if (options.bus) {
        this.bus = new CacheBus({
          client: this.l3.client,
          namespace: options.namespace,
          instanceId: this.instanceId,
          onMessage: (message) => this.#onBusMessage(message),
          onInvalid: () => this.reportError('bus', 'receive', 'corrupt', new Error('malformed bus message')),
          onError: (error) => this.reportError('bus', 'subscribe', 'unavailable', error),
          onSubscribed: (first) => {
            // Invalidations published before the subscription were missed: drop what they may have
            // made stale (on a re-subscription, the full re-sync, which also replays what Redis missed).
            if (first && this.#pending.empty) this.#dropLocal();
            else void this.resync();
          },
          onDown: () => {
            if (this.l1 !== undefined) this.l1.leaseUntil = 0;
            this.#dropLocal();
          },
          onAlive: (sentAt) => {
            const l1 = this.l1;
            if (l1 !== undefined) l1.leaseUntil = Math.max(l1.leaseUntil, sentAt + this.#l1ShortMs);
          },
          now: () => this.clock.now(),
        });
      }
    }
    this.tierNames = tiers;
    this.maxLifetimeMs = Math.max(
      this.l1 && Number.isFinite(this.#l1LongMs) ? this.#l1LongMs : 0,
      this.l2?.ttlMs ?? 0,
      this.l3?.ttlMs ?? 0,
      options.defaultTtlMs + options.graceMs,
    );
  }

  /**
   * How long a copy stored now may stay in L1: the long lifetime while the bus subscription is up
   * (or when nothing else can change the data), the short one (the staleness bound) while it is not.
   */
  l1Ms(): number {
    return this.#followsBus && !this.bus!.subscribed ? this.#l1ShortMs : this.#l1LongMs;
  }

  /**
   * Until when a copy stored now in L1 is served without the bus lease: the short lifetime from now
   * (Infinity when L1 does not follow the bus, so the lease is never consulted).
   */
  l1LeaseFree(now: number): number {
    return this.#followsBus ? now + this.#l1ShortMs : Number.POSITIVE_INFINITY;
  }

  /** How long a copy stored now may stay in L2 (an in-process L2 follows the L1 rule). */
  #l2Ms(life: number): number {
    const l2 = this.l2!;
    const ms = Math.min(l2.ttlMs, life);
    const short = this.#l2InProcess && this.l3 !== undefined && !(this.#followsBus && this.bus!.subscribed);
    return short ? Math.min(ms, SHORT_L1_MS) : ms;
  }

  /** Drops L1 and an in-process L2: they may hold copies an invalidation this instance missed made stale. */
  #dropLocal(): void {
    if (this.closed) return;
    this.l1?.clear();
    if (this.#l2InProcess) {
      this.l2?.clear().catch((error: unknown) => this.reportError('l2', 'clear', 'other', error));
    }
  }

  /** Keeps `task` (a Redis write-back or bus notice) running after its call returned; `close()` waits for it. */
  #inBackground(task: Promise<unknown>): void {
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }

  /** A strictly increasing time stamp: `clock.now()`, nudged forward when two calls share a millisecond. */
  stamp(): number {
    const now = this.clock.now();
    this.#lastStamp = now > this.#lastStamp ? now : this.#lastStamp + 1 / 1024;
    return this.#lastStamp;
  }

  /** @throws {PerfClosedError} after `close()`. */
  assertOpen(): void {
    if (this.closed) throw new PerfClosedError('The cache is closed');
  }

  /** True when an entry's tags (if any) survived every invalidation known locally. */
  tagsValid(entry: CacheEntry): boolean {
    return entry.tags === undefined || this.tags.isValid(entry.tags, entry.createdAt);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Walks L1 → L2 → L3 (or only L3) for `key`, backfilling upper tiers from a fresh lower hit with
   * the remaining TTL. Returns the fresh entry, or with `allowStale` an expired one still in
   * grace, or undefined. Never throws for tier failures (they are counted).
   */
  async lookup(
    key: string,
    eventNs: string,
    allowStale: boolean,
    l3Only = false,
  ): Promise<Found | undefined> {
    const counters = this.counters;
    let stale: Found | undefined;
    let now = this.clock.now();
    const l1 = this.l1;
    if (l1 !== undefined && !l3Only) {
      const i = l1.find(key);
      const e = i < 0 ? undefined : l1.entryAt(i);
      if (e !== undefined) {
        if (
          (now >= l1.until[i]! && !l1.renew(i, now) && !(now < l1.longUntil[i]! && this.#ownUnsynced(key))) ||
          !this.tagsValid(e)
        ) {
          l1.delete(key);
        } else if (now < e.expiresAt) {
          l1.touch(i);
          counters.l1.hits++;
          if (ch.hit.hasSubscribers) ch.hit.publish({ namespace: eventNs, key, tier: 'l1' });
          return { entry: e, fresh: true, tier: 'l1' };
        } else if (now < e.staleUntil) {
          stale = { entry: e, fresh: false, tier: 'l1' };
        }
      }
      counters.l1.misses++;
      if (ch.miss.hasSubscribers) ch.miss.publish({ namespace: eventNs, key, tier: 'l1' });
    }
    const l2 = this.l2;
    if (l2 !== undefined && !l3Only) {
      let raw: unknown;
      try {
        raw = await l2.get(key);
      } catch (error) {
        this.reportError('l2', 'get', 'other', error, key);
      }
      if (raw !== undefined && raw !== null) {
        const e = this.#decode(raw, 'l2', key);
        now = this.clock.now();
        // An in-process L2 copy follows the L1 lease; its store time is unknown, so its entry's
        // creation time (never later) stands in for it.
        if (
          e !== undefined &&
          (!this.#l2InProcess ||
            !this.#followsBus ||
            now < this.bus!.provenAt + this.#l1ShortMs ||
            now < e.createdAt + SHORT_L1_MS ||
            this.#ownUnsynced(key)) &&
          this.tagsValid(e)
        ) {
          if (now < e.expiresAt) {
            counters.l2.hits++;
            if (ch.hit.hasSubscribers) ch.hit.publish({ namespace: eventNs, key, tier: 'l2' });
            this.#backfillL1(key, e, now, raw);
            return { entry: e, fresh: true, tier: 'l2' };
          }
          if (now < e.staleUntil && (stale === undefined || e.createdAt > stale.entry.createdAt)) {
            stale = { entry: e, fresh: false, tier: 'l2' };
          }
        }
      }
      counters.l2.misses++;
      if (ch.miss.hasSubscribers) ch.miss.publish({ namespace: eventNs, key, tier: 'l2' });
    }
    const l3 = this.l3;
    if (l3 !== undefined && (this.#pending.empty || !this.#l3Suspect(key))) {
      const readAt = this.stamp();
      const raw = await l3.get(key);
      if (raw !== UNAVAILABLE) {
        if (!this.#pending.empty) this.#resyncSoon(); // Redis answers again
        if (raw !== null) {
          const e = this.#decode(raw, 'l3', key);
          if (e !== undefined && (await this.#tagsValidInRedis(e))) {
            now = this.clock.now();
            if (now < e.expiresAt) {
              counters.l3.hits++;
              if (ch.hit.hasSubscribers) ch.hit.publish({ namespace: eventNs, key, tier: 'l3' });
              // A bus notice of a newer write that arrived while we read must not be undone by a backfill.
              if (this.mayStore(key, readAt)) {
                if (!l3Only) await this.#backfillL2(key, e, now, raw);
                this.#backfillL1(key, e, now, raw);
              }
              return { entry: e, fresh: true, tier: 'l3' };
            }
            if (now < e.staleUntil && (stale === undefined || e.createdAt > stale.entry.createdAt)) {
              stale = { entry: e, fresh: false, tier: 'l3' };
            }
          }
        }
        counters.l3.misses++;
        if (ch.miss.hasSubscribers) ch.miss.publish({ namespace: eventNs, key, tier: 'l3' });
      }
    }
    return allowStale ? stale : undefined;
  }

  #decode(raw: unknown, tier: CacheTier, key: string): CacheEntry | undefined {
    try {
      return decodeEntry(raw, this.serializer);
    } catch (error) {
      this.counters.corruptReads++;
      this.reportError(tier, 'get', error instanceof CorruptEntryError ? 'corrupt' : 'other', error, key);
      return undefined;
    }
  }

  /** Tags of an entry read from Redis are checked against Redis' tag times (other instances' invalidations). */
  async #tagsValidInRedis(entry: CacheEntry): Promise<boolean> {
    if (entry.tags === undefined) return true;
    const times = await this.l3!.tagTimes(entry.tags);
    if (times === UNAVAILABLE) return false;
    for (let i = 0; i < times.length; i++) {
      const at = times[i]!;
      if (at > 0) this.tags.invalidate(entry.tags[i]!, at);
    }
    return this.tags.isValid(entry.tags, entry.createdAt);
  }

  #backfillL1(key: string, entry: CacheEntry, now: number, raw: unknown): void {
    const l1 = this.l1;
    if (l1 === undefined) return;
    l1.set(
      key,
      entry,
      Math.min(now + this.l1Ms(), entry.staleUntil),
      (raw as Uint8Array).byteLength ?? 0,
      this.l1LeaseFree(now),
    );
    this.counters.l1.sets++;
  }

  async #backfillL2(key: string, entry: CacheEntry, now: number, raw: Uint8Array): Promise<void> {
    const l2 = this.l2;
    if (l2 === undefined) return;
    try {
      await l2.set(key, raw, this.#l2Ms(entry.staleUntil - now));
      this.counters.l2.sets++;
    } catch (error) {
      this.reportError('l2', 'set', 'other', error, key);
    }
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes through every tier. Encodes first, so a value that cannot be serialized is refused
   * before anything is written. Tier failures are counted, never thrown. An explicit `set`/`warm`
   * waits for the Redis write and then for the bus notice, both within one `commandTimeoutMs`;
   * a factory's value waits for neither (its write-back and notice run in the background). What
   * fails is remembered and replayed when Redis answers again.
   * @throws {PerfSerializationError} when the value cannot be serialized.
   */
  async write(key: string, value: unknown, spec: WriteSpec, eventNs: string): Promise<CacheEntry> {
    const now = this.clock.now();
    const expiresAt = now + spec.ttlMs;
    const staleUntil = expiresAt + spec.graceMs;
    const eager = this.options.eagerRefresh;
    const refreshAt = eager === undefined ? Number.POSITIVE_INFINITY : now + spec.ttlMs * eager;
    const entry = new CacheEntry(value, spec.createdAt, expiresAt, staleUntil, refreshAt, spec.tags);
    const l1 = this.l1;
    const l2 = this.l2;
    const l3 = this.l3;
    const bytes =
      l2 !== undefined || l3 !== undefined || l1?.needsSize ? encodeEntry(entry, this.serializer) : undefined;
    const counters = this.counters;
    const explicit = spec.reason === 'set' || spec.reason === 'warm';
    if (explicit) this.#touch(key, spec.createdAt);
    if (l1 !== undefined) {
      l1.set(
        key,
        entry,
        Math.min(now + this.l1Ms(), staleUntil),
        bytes?.byteLength ?? 0,
        this.l1LeaseFree(now),
      );
      counters.l1.sets++;
    }
    const life = staleUntil - now;
    const pending: Promise<unknown>[] = [];
    if (l2 !== undefined) {
      pending.push(
        l2.set(key, bytes!, this.#l2Ms(life)).then(
          () => {
            counters.l2.sets++;
          },
          (error: unknown) => this.reportError('l2', 'set', 'other', error, key),
        ),
      );
    }
    let remote: Promise<boolean> | undefined;
    let notice: Promise<unknown> | undefined;
    if (l3 !== undefined) {
      remote = l3.set(key, bytes!, Math.min(l3.ttlMs, life)).then((ok) => {
        if (ok) {
          counters.l3.sets++;
          const known = this.#pending.keys.get(key);
          if (known !== undefined && known.at <= spec.createdAt) this.#pending.keys.delete(key);
          if (!this.#pending.empty) this.#resyncSoon(); // Redis answers again
        } else {
          // Replayed when Redis answers (unless Redis then holds something newer; see RedisTier.replay).
          // A factory's value only while there is room: it can be produced again, so it never makes
          // the replay overflow (which would drop the namespace in Redis).
          this.#pending.addKey(key, spec.createdAt, true, bytes, staleUntil, !explicit);
        }
        return ok;
      });
      const written = remote;
      this.#writeBacks.set(key, written);
      void written.finally(() => {
        if (this.#writeBacks.get(key) === written) this.#writeBacks.delete(key);
      });
      // The notice follows the Redis write (others then re-read Redis); when the write missed Redis,
      // its replay sends the notice instead.
      notice = remote.then((ok) =>
        ok && this.bus !== undefined ? this.publish({ kind: 'set', target: key }) : undefined,
      );
      this.#inBackground(notice);
    }
    if (pending.length > 0) await Promise.all(pending);
    counters.sets++;
    if (ch.set.hasSubscribers) {
      ch.set.publish({
        namespace: eventNs,
        key,
        tiers: this.tierNames,
        ttlMs: spec.ttlMs,
        reason: spec.reason,
      });
    }
    if (remote !== undefined && explicit) {
      // Wait for the Redis write, then for the notice only within what is left of the same
      // deadline: normally other instances have the notice when `set` returns.
      await remote;
      await this.#within(notice, now);
    }
    return entry;
  }

  /** The Redis write of `key` still in flight, if any. */
  writeBack(key: string): Promise<unknown> | undefined {
    return this.#writeBacks.get(key);
  }

  /**
   * Whether a value a factory began producing at `startedAt` may still be cached: false when the
   * key was written, deleted or invalidated (locally or by a bus notice) after the factory began.
   */
  mayStore(key: string, startedAt: number): boolean {
    if (startedAt <= this.#touchFloor) return false;
    const touched = this.#touched.get(key);
    return touched === undefined || touched < startedAt;
  }

  #touch(key: string, at: number): void {
    const touched = this.#touched;
    touched.delete(key);
    touched.set(key, at);
    if (touched.size > MAX_TOUCHED) {
      const oldest = touched.keys().next().value as string;
      const time = touched.get(oldest)!;
      touched.delete(oldest);
      if (time > this.#touchFloor) this.#touchFloor = time;
    }
  }

  #markPending(key: string, at: number, rewrite: boolean): void {
    this.#pending.addKey(key, at, rewrite);
  }

  /** True when Redis may hold an outdated copy of `key` (it missed a write, delete or invalidation). */
  /**
   * True while `key` holds this instance's own write that Redis has not got yet: its local copy is the
   * only one, so it stays readable here (read-your-writes) even when the bus lease lapsed.
   */
  #ownUnsynced(key: string): boolean {
    return this.#pending.keys.get(key)?.rewrite === true;
  }

  #l3Suspect(key: string): boolean {
    const pending = this.#pending;
    if (pending.overflowed || pending.tags.size > 0 || pending.keys.has(key)) return true;
    for (const prefix of pending.prefixes) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** Deletes `key` from every tier; resolves true when any tier had it. */
  async remove(key: string, eventNs: string): Promise<boolean> {
    const at = this.stamp();
    this.#touch(key, at);
    const counters = this.counters;
    let existed = false;
    if (this.l1?.delete(key)) {
      existed = true;
      counters.l1.deletes++;
    }
    const pending: Promise<unknown>[] = [];
    let reached = this.l3 === undefined;
    if (this.l2 !== undefined) {
      pending.push(
        this.l2.delete(key).then(
          (had) => {
            if (had) {
              existed = true;
              counters.l2.deletes++;
            }
          },
          (error: unknown) => this.reportError('l2', 'delete', 'other', error, key),
        ),
      );
    }
    if (this.l3 !== undefined) {
      pending.push(
        this.l3.delete(key).then((had) => {
          if (had === UNAVAILABLE) {
            this.#markPending(key, at, false);
          } else {
            reached = true;
            const known = this.#pending.keys.get(key);
            if (known !== undefined && known.at <= at) this.#pending.keys.delete(key);
            if (had) {
              existed = true;
              counters.l3.deletes++;
            }
          }
        }),
      );
    }
    if (pending.length > 0) await Promise.all(pending);
    counters.deletes++;
    if (ch.delete.hasSubscribers) ch.delete.publish({ namespace: eventNs, kind: 'key', target: key });
    // A delete that missed Redis sends its notice when it is replayed.
    if (reached) await this.#notify({ kind: 'delete', target: key }, at);
    return existed;
  }

  /** Deletes every key starting with `prefix` (`''`: everything) from every tier. */
  async removePrefix(prefix: string, eventNs: string): Promise<void> {
    const startedAt = this.stamp();
    this.#touchFloor = Math.max(this.#touchFloor, startedAt);
    this.l1?.deletePrefix(prefix);
    if (this.l2 !== undefined) {
      try {
        await this.l2.deletePrefix(prefix);
      } catch (error) {
        this.reportError('l2', prefix === '' ? 'clear' : 'deleteByPrefix', 'other', error);
      }
    }
    let reached = true;
    if (this.l3 !== undefined) {
      // Writes that missed Redis before this delete must not be replayed after it.
      this.#pending.demote(prefix, true);
      reached = await this.l3.deletePrefix(prefix);
      if (!reached) this.#pending.addPrefix(prefix); // replayed (with its notice) when Redis returns
    }
    this.counters.deletes++;
    if (ch.delete.hasSubscribers) {
      ch.delete.publish(
        prefix === ''
          ? { namespace: eventNs, kind: 'clear' }
          : { namespace: eventNs, kind: 'prefix', target: prefix },
      );
    }
    if (reached)
      await this.#notify(prefix === '' ? { kind: 'clear' } : { kind: 'prefix', target: prefix }, startedAt);
  }

  /** Records the invalidation of `tags` locally, in Redis (for other instances' reads) and on the bus. */
  async invalidateTags(tags: readonly string[], eventNs: string): Promise<void> {
    const at = this.stamp();
    for (const tag of tags) this.tags.invalidate(tag, at);
    let reached = true;
    if (this.l3 !== undefined && !(await this.l3.invalidateTags(tags, at, this.maxLifetimeMs))) {
      reached = false;
      this.#pending.addTags(tags, at); // replayed (with its notice) when Redis returns
    }
    if (ch.invalidate.hasSubscribers) ch.invalidate.publish({ namespace: eventNs, tags });
    if (reached) await this.#notify({ kind: 'tags', tags: [...tags], at }, at);
  }

  /**
   * Sends a bus notice in the background (a failed one is replayed); the caller waits for it at most
   * what is left of its one Redis deadline since `startedAt`.
   */
  async #notify(message: BusMessage, startedAt: number): Promise<void> {
    if (this.bus === undefined) return;
    const sent = this.publish(message);
    this.#inBackground(sent);
    await this.#within(sent, startedAt);
  }

  /** Waits for `task` at most until one `commandTimeoutMs` has passed since `startedAt`. */
  async #within(task: Promise<unknown> | undefined, startedAt: number): Promise<void> {
    if (task === undefined || this.l3 === undefined) return;
    const left = this.l3.commandTimeoutMs - (this.clock.now() - startedAt);
    if (left > 0) await withSoftTimeout(task, left, this.clock);
  }

  // ---------------------------------------------------------------- bus and re-sync

  /**
   * Sends `message` to other instances (no-op without a bus); resolves false when it failed, and
   * then it is remembered and sent again when Redis answers (others may hold copies it invalidates).
   */
  async publish(message: BusMessage): Promise<boolean> {
    const bus = this.bus;
    if (bus === undefined || this.l3 === undefined) return true;
    const sent = await this.l3.publish(bus.channel, bus.encode(message));
    if (sent === UNAVAILABLE) {
      if (!this.closed) this.#pending.addNotice(message);
      return false;
    }
    this.counters.busMessagesSent++;
    if (ch.bus.hasSubscribers)
      ch.bus.publish({ namespace: this.namespace, direction: 'sent', kind: message.kind });
    return true;
  }

  #onBusMessage(message: BusMessage): void {
    if (this.closed) return;
    this.counters.busMessagesReceived++;
    if (ch.bus.hasSubscribers)
      ch.bus.publish({ namespace: this.namespace, direction: 'received', kind: message.kind });
    const target = message.target ?? '';
    switch (message.kind) {
      case 'set':
      case 'delete':
        this.#touch(target, this.stamp());
        // Another instance's newer write or delete reached Redis: ours must not be replayed over it.
        this.#pending.demote(target);
        this.l1?.delete(target);
        this.l2
          ?.delete(target)
          .catch((error: unknown) => this.reportError('l2', 'delete', 'other', error, target));
        break;
      case 'prefix':
      case 'clear':
        this.#touchFloor = Math.max(this.#touchFloor, this.stamp());
        this.#pending.demote(target, true);
        this.l1?.deletePrefix(target);
        this.l2
          ?.deletePrefix(target)
          .catch((error: unknown) => this.reportError('l2', 'clear', 'other', error));
        break;
      case 'tags':
        for (const tag of message.tags ?? []) this.tags.invalidate(tag, message.at ?? this.stamp());
        break;
    }
  }

  /**
   * Redis or the bus came back after being away: writes that missed Redis are replayed from the
   * local copy (or deleted there when none is left), then L1 and L2 are dropped, since they may
   * have missed other instances' invalidations.
   */
  resync(): Promise<void> {
    if (this.#resyncing !== undefined || this.closed) return this.#resyncing ?? Promise.resolve();
    this.#resyncing = this.#resync().finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #resync(): Promise<void> {
    // 1. Take what Redis missed, with the bytes of the missed writes (kept with them; older entries
    //    without kept bytes fall back to the L1/L2 copies).
    const pending = this.#pending;
    const keys: Array<{ key: string; at: number; bytes: Uint8Array | undefined; ttlMs: number }> = [];
    for (const [key, { at, rewrite, bytes: kept, until: keptUntil }] of pending.keys) {
      const now = this.clock.now();
      if (!rewrite) {
        keys.push({ key, at, bytes: undefined, ttlMs: 0 });
        continue;
      }
      if (kept !== undefined && keptUntil !== undefined) {
        // The write's own bytes: L1/L2 may have dropped their copies (short L1 TTL, no L2, eviction,
        // or an earlier re-sync that failed part-way after clearing them).
        keys.push({ key, at, bytes: now < keptUntil ? kept : undefined, ttlMs: keptUntil - now });
        continue;
      }
      let bytes: Uint8Array | undefined;
      let createdAt = at;
      let until = 0;
      const l1 = this.l1;
      const i = l1 === undefined ? -1 : l1.find(key);
      const e = i < 0 ? undefined : l1!.entryAt(i);
      if (e !== undefined && now < l1!.longUntil[i]! && now < e.staleUntil) {
        bytes = encodeEntry(e, this.serializer);
        createdAt = e.createdAt;
        until = e.staleUntil;
      } else if (this.l2 !== undefined) {
        const raw = await this.l2.get(key).catch(() => undefined);
        const decoded = raw === undefined || raw === null ? undefined : this.#decode(raw, 'l2', key);
        if (decoded !== undefined && now < decoded.staleUntil) {
          bytes = raw as Uint8Array;
          createdAt = decoded.createdAt;
          until = decoded.staleUntil;
        }
      }
      keys.push({ key, at: Math.max(at, createdAt), bytes, ttlMs: until - now });
    }
    // 2. Drop L1 and L2: they may have missed other instances' invalidations. Until the replay is
    //    done, Redis is not read for the pending keys either, so readers go to the factory.
    this.l1?.clear();
    try {
      await this.l2?.clear();
    } catch (error) {
      this.reportError('l2', 'clear', 'other', error);
    }
    // 3. Replay into Redis; a write only lands if Redis holds nothing newer (see RedisTier.replay).
    const l3 = this.l3;
    if (l3 !== undefined && !(await this.#replay(l3, keys))) {
      this.#resyncFailedAt = this.clock.now(); // still failing: the next reconnect (or a later answer) tries again
      return;
    }
    this.#resyncFailedAt = Number.NEGATIVE_INFINITY;
    this.counters.resyncs++;
  }

  /**
   * A re-sync because a Redis call answered while something is pending. After a re-sync that failed
   * part-way (e.g. Redis refuses PUBLISH), the next such try waits a second, so a lasting failure
   * does not re-sync (and drop L1) on every call. Reconnects and re-subscriptions always re-sync.
   */
  #resyncSoon(): void {
    if (this.clock.now() - this.#resyncFailedAt < RESYNC_RETRY_MS) return;
    void this.resync();
  }

  /** Replays what Redis missed; false when Redis failed again part-way. */
  async #replay(
    l3: RedisTier,
    keys: Array<{ key: string; at: number; bytes: Uint8Array | undefined; ttlMs: number }>,
  ): Promise<boolean> {
    const pending = this.#pending;
    if (pending.overflowed) {
      // Too much to replay one by one: drop the namespace in Redis instead.
      if (!(await l3.deletePrefix(''))) return false;
      pending.clear();
      await this.publish({ kind: 'clear' });
      return true;
    }
    for (const prefix of [...pending.prefixes]) {
      if (!(await l3.deletePrefix(prefix))) return false;
      pending.prefixes.delete(prefix);
      if (!(await this.publish(prefix === '' ? { kind: 'clear' } : { kind: 'prefix', target: prefix })))
        return false;
    }
    for (const [tag, at] of [...pending.tags]) {
      if (!(await l3.invalidateTags([tag], at, this.maxLifetimeMs))) return false;
      pending.tags.delete(tag);
      if (!(await this.publish({ kind: 'tags', tags: [tag], at }))) return false;
    }
    // Notices whose Redis change landed but whose publish failed.
    if (pending.noticesOverflowed) {
      pending.noticesOverflowed = false;
      if (!(await this.publish({ kind: 'clear' }))) return false;
    }
    for (const [id, message] of [...pending.notices]) {
      pending.notices.delete(id);
      if (!(await this.publish(message))) return false;
    }
    // Replayed in parallel chunks (one round trip each on a pipelined connection).
    for (let i = 0; i < keys.length; i += REPLAY_CHUNK) {
      const chunk = keys.slice(i, i + REPLAY_CHUNK);
      const results = await Promise.all(
        chunk.map(({ key, at, bytes, ttlMs }) =>
          l3.replay(key, at, bytes !== undefined && ttlMs > 0 ? bytes : undefined, Math.min(l3.ttlMs, ttlMs)),
        ),
      );
      if (results.includes(false)) return false; // Redis failed again; a later replay deletes instead
      for (const { key, at } of chunk) {
        // (a write that missed Redis again during the replay has a newer stamp and stays pending)
        if ((pending.keys.get(key)?.at ?? 0) <= at) pending.keys.delete(key);
      }
      // Others drop copies older than the replayed writes and deletes (their own notices never went
      // out); one round trip per chunk, like the replay itself.
      await Promise.all(chunk.map(({ key }) => this.publish({ kind: 'delete', target: key })));
    }
    return true;
  }

  /** Resolves true once Redis (and the bus subscription) answer, false if not within `timeoutMs`. */
  async ready(timeoutMs: number): Promise<boolean> {
    if (this.l3 === undefined) return true;
    const started = this.clock.now();
    if (!(await this.l3.waitReady(timeoutMs))) return false;
    return this.bus === undefined
      ? true
      : this.bus.ready(Math.max(1, timeoutMs - (this.clock.now() - started)));
  }

  // ---------------------------------------------------------------- errors and close

  #onRedisFailure(operation: string, kind: RedisFailureKind, error: unknown, key?: string): void {
    if (operation === 'publish') {
      this.reportError('bus', operation, kind, error, key);
      return;
    }
    if (operation.startsWith('lock')) {
      this.reportError('lock', operation, kind, error, key);
      return;
    }
    this.counters.l3.errors++;
    this.reportError('l3', operation, kind, error, key);
  }

  /** Counts a failure the cache carried on from, and publishes it when observed. */
  reportError(
    source: CacheErrorEvent['source'],
    operation: string,
    kind: CacheErrorEvent['kind'],
    error: unknown,
    key?: string,
  ): void {
    this.counters.errors++;
    if (source === 'l2') this.counters.l2.errors++;
    if (ch.error.hasSubscribers) {
      ch.error.publish(
        key === undefined
          ? { namespace: this.namespace, source, operation, kind, error }
          : { namespace: this.namespace, source, operation, kind, error, key },
      );
    }
  }

  /** Stops timers, listeners and connections the cache owns; aborts running factories. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort(new PerfClosedError('The cache is closed'));
    // Write-backs and notices still running are bounded by commandTimeoutMs; let them land.
    if (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    this.bus?.close();
    await this.l3?.close();
    this.l2?.close();
    this.l1?.clear();
    this.#ownDedup?.close();
    this.refreshing.clear();
    this.#touched.clear();
    this.#pending.clear();
  }
}
