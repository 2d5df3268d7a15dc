/**
 * The public cache: L1 → L2 → L3 reads with backfill, write-through, stampede-safe `getOrSet`
 * (per process through a Deduplicator, across instances with a Redis lock), tags, prefixes,
 * scopes, warming and fail-safe. One `TieredCache` is a view (a key prefix) over a `CacheCore`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type Cache,
  type CacheFactory,
  type CacheGetOrSetOptions,
  type CacheOperationEvent,
  type CacheSetOptions,
  type CacheStaleEvent,
  channels,
  checkOptions,
  is,
  isPerfSerializationError,
  optional,
  PerfAbortError,
  PerfConfigError,
} from '@perf/core';
import { type CacheCore, MAX_REFRESHING } from './cache-core.js';
import { SOFT_TIMEOUT, sleep, withSoftTimeout } from './clock-waits.js';
import { eitherSignal } from './either-signal.js';
import type { CacheEntry } from './entry.js';
import { UNAVAILABLE } from './l3-redis.js';
import { timerMs } from './options.js';
import type { TieredCacheStats } from './stats.js';
import { endSpan, startFactorySpan } from './tracing.js';

const ch = channels.cache;
const MAX_TAGS_PER_ENTRY = 64;

/** Options of `set` (and of each warmed entry). */
export interface TieredSetOptions extends CacheSetOptions {
  /** Keep the value this long past its TTL, to serve from grace if a later `getOrSet` factory fails. */
  graceMs?: number;
}

/** Options of `getOrSet`. */
export type TieredGetOrSetOptions = CacheGetOrSetOptions;

/** One entry for `warm`. */
export interface WarmEntry<T = unknown> extends TieredSetOptions {
  key: string;
  value: T;
}

export type WarmEntries = Iterable<WarmEntry> | AsyncIterable<WarmEntry>;

/** What `warm` accepts: entries, or a function that loads them. */
export type WarmSource = WarmEntries | (() => WarmEntries | Promise<WarmEntries>);

export interface WarmOptions {
  /** Entries written at once. Default 8. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface WarmResult {
  warmed: number;
  /** Entries refused (bad key or options, or a value that cannot be serialized). */
  failed: number;
}

const setShape = {
  ttlMs: optional(is.positiveNumber),
  graceMs: optional(is.nonNegativeNumber),
  tags: optional(is.arrayOf(is.nonEmptyString)),
};

const getOrSetShape = {
  ttlMs: optional(is.positiveNumber),
  graceMs: optional(is.nonNegativeNumber),
  softTimeoutMs: optional(timerMs),
  tags: optional(is.arrayOf(is.nonEmptyString)),
  lock: optional(is.boolean),
  signal: optional(is.abortSignal),
};

const warmShape = {
  concurrency: optional(is.positiveInteger),
  signal: optional(is.abortSignal),
};

/** What one `getOrSet` load produced, shared by the leader and its followers. */
interface Loaded<T> {
  value: T;
  result: 'l1' | 'l2' | 'l3' | 'factory' | 'stale';
  /** A factory still running after a grace value was served on soft timeout (a lock is held until it settles). */
  background?: Promise<unknown>;
}

type CheckedGetOrSet = {
  ttlMs: number;
  graceMs: number;
  softTimeoutMs: number | undefined;
  tags: readonly string[] | undefined;
  lock: boolean;
  signal: AbortSignal | undefined;
};

function checkKey(owner: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new PerfConfigError('key', 'must be a string', key, { owner });
}

function checkTags(owner: string, tags: readonly string[] | undefined): readonly string[] | undefined {
  if (tags === undefined || tags.length === 0) return undefined;
  if (tags.length > MAX_TAGS_PER_ENTRY) {
    throw new PerfConfigError('tags', `must hold at most ${MAX_TAGS_PER_ENTRY} tags`, tags, { owner });
  }
  return [...new Set(tags)];
}

/**
 * A multi-tier cache. Create one with `createCache`; `scope(name)` gives a view whose keys are
 * namespaced under `name` and can be dropped together with `clear()`.
 */
export class TieredCache implements Cache {
  readonly #core: CacheCore;
  readonly #prefix: string;
  readonly #eventNs: string;
  readonly #isRoot: boolean;

  /** @internal Use `createCache`. */
  constructor(core: CacheCore, prefix: string, eventNs: string) {
    this.#core = core;
    this.#prefix = prefix;
    this.#eventNs = eventNs;
    this.#isRoot = prefix === '';
  }

  /** The namespace events carry (`namespace`, or `namespace:scope` for a scope). */
  get namespace(): string {
    return this.#eventNs;
  }

  /**
   * The value under `key`, or undefined. Reads L1, then L2, then L3, and backfills upper tiers.
   * Never throws for tier failures (they read as misses and are counted).
   * @throws {PerfConfigError} when `key` is not a string.
   * @throws {PerfClosedError} after `close()`.
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const core = this.#core;
    if (core.closed) core.assertOpen();
    if (typeof key !== 'string') checkKey('TieredCache.get', key);
    const full = this.#isRoot ? key : this.#prefix + key;
    const l1 = core.l1;
    // Observed or not, an L1 hit stays on this synchronous path; observers only add the timing.
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    if (l1 !== undefined) {
      const i = this.#freshL1(full, core.clock.now());
      if (i >= 0) {
        const value = l1.values[i] as T; // read before anything else can reuse the slot
        if (started !== 0) this.#operation('get', started, 'l1');
        return value;
      }
    }
    const found = await core.lookup(full, this.#eventNs, false);
    if (found === undefined) core.counters.misses++;
    else core.counters.hits++;
    if (started !== 0) this.#operation('get', started, found === undefined ? 'miss' : found.tier);
    return found?.entry.value as T | undefined;
  }

  /**
   * True when a live value is cached under `key` (a cached `undefined` counts). Counts as a read.
   * @throws {PerfConfigError} when `key` is not a string.
   * @throws {PerfClosedError} after `close()`.
   */
  async has(key: string): Promise<boolean> {
    this.#core.assertOpen();
    checkKey('TieredCache.has', key);
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    const found = await this.#core.lookup(this.#full(key), this.#eventNs, false);
    if (found === undefined) this.#core.counters.misses++;
    else this.#core.counters.hits++;
    if (started !== 0) this.#operation('has', started, found === undefined ? 'miss' : found.tier);
    return found !== undefined;
  }

  /**
   * Writes `value` through every tier and tells other instances to drop their copies.
   * @throws {PerfConfigError} for a non-string key or bad options.
   * @throws {PerfSerializationError} when L2/L3 are on and the value cannot be serialized; nothing is written then.
   * @throws {PerfClosedError} after `close()`.
   */
  async set<T = unknown>(key: string, value: T, options?: TieredSetOptions): Promise<void> {
    this.#core.assertOpen();
    checkKey('TieredCache.set', key);
    const o = options === undefined ? undefined : checkOptions('TieredCache.set', options, setShape);
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    const core = this.#core;
    await core.write(
      this.#full(key),
      value,
      {
        ttlMs: o?.ttlMs ?? core.options.defaultTtlMs,
        graceMs: o?.graceMs ?? core.options.graceMs,
        tags: checkTags('TieredCache.set', o?.tags),
        createdAt: core.stamp(),
        reason: 'set',
      },
      this.#eventNs,
    );
    if (started !== 0) this.#operation('set', started);
  }

  /**
   * Deletes `key` from every tier (and other instances' L1/L2 through the bus).
   * @returns true when any tier held the key.
   * @throws {PerfConfigError} when `key` is not a string.
   * @throws {PerfClosedError} after `close()`.
   */
  async delete(key: string): Promise<boolean> {
    this.#core.assertOpen();
    checkKey('TieredCache.delete', key);
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    const existed = await this.#core.remove(this.#full(key), this.#eventNs);
    if (started !== 0) this.#operation('delete', started);
    return existed;
  }

  /**
   * The cached value, or the factory's. Concurrent misses for one key run the factory once per
   * process; with `lock: true`, once across instances sharing the Redis. With `graceMs`, an
   * expired value is served if the factory fails, or (with `softTimeoutMs`) while it is slow.
   * @throws whatever the factory throws, when no value in grace can stand in.
   * @throws {PerfSerializationError} when the factory's value cannot be serialized for L2/L3.
   * @throws {PerfConfigError} for a non-string key, a non-function factory or bad options.
   * @throws {PerfClosedError} after `close()`.
   */
  async getOrSet<T>(key: string, factory: CacheFactory<T>, options?: TieredGetOrSetOptions): Promise<T> {
    const core = this.#core;
    if (core.closed) core.assertOpen();
    if (typeof key !== 'string') checkKey('TieredCache.getOrSet', key);
    const full = this.#isRoot ? key : this.#prefix + key;
    const l1 = core.l1;
    if (l1 !== undefined) {
      const started = ch.operation.hasSubscribers ? performance.now() : 0;
      const now = core.clock.now();
      const i = this.#freshL1(full, now);
      if (i >= 0) {
        const value = l1.values[i] as T; // read before a refresh or an observer can reuse the slot
        const refreshAt = l1.refreshAt;
        if (refreshAt !== undefined && now >= refreshAt[i]!)
          this.#refreshInBackground(full, key, factory, options, l1.entryAt(i));
        if (started !== 0) this.#operation('getOrSet', started, 'l1');
        return value;
      }
    }
    return this.#getOrSetSlow(full, key, factory, options);
  }

  async #getOrSetSlow<T>(
    full: string,
    key: string,
    factory: CacheFactory<T>,
    options: TieredGetOrSetOptions | undefined,
  ): Promise<T> {
    if (typeof factory !== 'function') {
      throw new PerfConfigError('factory', 'must be a function', factory, { owner: 'TieredCache.getOrSet' });
    }
    const o = this.#checkGetOrSet(options);
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    const core = this.#core;
    // Every caller (leader or follower) counts one hit or miss, from the shared outcome.
    let loaded: Loaded<T>;
    try {
      loaded = await core.dedup.run(
        full,
        (signal) => this.#load(full, key, factory, o, signal),
        o.signal === undefined ? undefined : { signal: o.signal },
      );
    } catch (error) {
      core.counters.misses++;
      if (started !== 0) this.#operation('getOrSet', started);
      throw error;
    }
    const result = loaded.result;
    if (result === 'factory' || result === 'stale') core.counters.misses++;
    else core.counters.hits++;
    if (started !== 0) this.#operation('getOrSet', started, result);
    return loaded.value;
  }

  #checkGetOrSet(options: TieredGetOrSetOptions | undefined): CheckedGetOrSet {
    const o =
      options === undefined ? undefined : checkOptions('TieredCache.getOrSet', options, getOrSetShape);
    const defaults = this.#core.options;
    return {
      ttlMs: o?.ttlMs ?? defaults.defaultTtlMs,
      graceMs: o?.graceMs ?? defaults.graceMs,
      softTimeoutMs: o?.softTimeoutMs ?? defaults.softTimeoutMs,
      tags: checkTags('TieredCache.getOrSet', o?.tags),
      lock: o?.lock ?? false,
      signal: o?.signal,
    };
  }

  async #load<T>(
    full: string,
    key: string,
    factory: CacheFactory<T>,
    o: CheckedGetOrSet,
    signal: AbortSignal,
  ): Promise<Loaded<T>> {
    const core = this.#core;
    const found = await core.lookup(full, this.#eventNs, true);
    if (found?.fresh) {
      if (core.clock.now() >= found.entry.refreshAt)
        this.#refreshInBackground(full, key, factory, o, found.entry);
      return { value: found.entry.value as T, result: found.tier };
    }
    const out: Loaded<T> = { value: undefined as T, result: 'factory' };
    const stale = found?.entry as CacheEntry<T> | undefined;
    if (stale !== undefined && core.refreshing.has(full)) {
      // A refresh that outlived its soft timeout is still running: keep serving from grace.
      out.value = this.#serveStale(full, stale, 'soft-timeout', out);
      return out;
    }
    out.value =
      o.lock && core.l3?.usable
        ? await this.#loadLocked(full, key, factory, o, stale, signal, out)
        : await this.#runFactory(full, key, factory, o, stale, signal, out);
    return out;
  }

  /** `getOrSet({ lock: true })`: one factory run across instances, through a Redis lock. */
  async #loadLocked<T>(
    full: string,
    key: string,
    factory: CacheFactory<T>,
    o: CheckedGetOrSet,
    stale: CacheEntry<T> | undefined,
    signal: AbortSignal,
    out: Loaded<T>,
  ): Promise<T> {
    const core = this.#core;
    const l3 = core.l3!;
    const lockOptions = core.options.l3!;
    const token = randomBytes(16).toString('hex');
    const deadline = core.clock.now() + lockOptions.lockWaitMs;
    // With a grace value, waiting for another holder ends at the soft timeout, like a slow factory would.
    const softDeadline =
      stale !== undefined && o.softTimeoutMs !== undefined
        ? core.clock.now() + o.softTimeoutMs
        : Number.POSITIVE_INFINITY;
    for (;;) {
      const acquired = await l3.acquireLock(full, token, lockOptions.lockTtlMs);
      if (acquired === UNAVAILABLE) return this.#runFactory(full, key, factory, o, stale, signal, out);
      if (acquired) {
        core.counters.lockAcquired++;
        try {
          // Another instance may have filled the key while we waited for the lock.
          const again = await core.lookup(full, this.#eventNs, false, true);
          if (again !== undefined) {
            out.result = 'l3';
            return again.entry.value as T;
          }
          return await this.#runFactory(full, key, factory, o, stale, signal, out);
        } finally {
          // The lock is released once the value is in Redis, so other instances find it instead of
          // running the factory again: after the write-back (which runs in the background, so the
          // caller does not wait for it), or after a factory that outlived its soft timeout has
          // landed its value (lockTtlMs still bounds both).
          const background = out.background;
          const release = () => l3.releaseLock(full, token);
          if (background !== undefined) {
            const landed = () => core.writeBack(full);
            void background.then(landed, landed).then(release, release);
          } else {
            const writeBack = core.writeBack(full);
            if (writeBack === undefined) await release();
            else void writeBack.then(release, release);
          }
        }
      }
      if (core.clock.now() >= deadline) {
        core.counters.lockWaitTimeouts++;
        return this.#runFactory(full, key, factory, o, stale, signal, out);
      }
      if (core.clock.now() >= softDeadline) return this.#serveStale(full, stale!, 'soft-timeout', out);
      await sleep(core.clock, lockOptions.lockPollMs, signal);
      const filled = await core.lookup(full, this.#eventNs, false, true);
      if (filled !== undefined) {
        out.result = 'l3';
        return filled.entry.value as T;
      }
    }
  }

  async #runFactory<T>(
    full: string,
    key: string,
    factory: CacheFactory<T>,
    o: CheckedGetOrSet,
    stale: CacheEntry<T> | undefined,
    signal: AbortSignal,
    out?: Loaded<T>,
    /** False for background refreshes: a failure keeps the current value and serves nothing. */
    fallBack = true,
  ): Promise<T> {
    const core = this.#core;
    // A wait (lock, Redis) that ended because the cache closed must not start the factory.
    if (core.closed) core.assertOpen();
    const startedAt = core.stamp();
    core.counters.factoryRuns++;
    const span = startFactorySpan(key, this.#eventNs);
    const t0 = performance.now();
    const combined = eitherSignal(signal, core.abort.signal);
    const produced = (async () => factory({ key, signal: combined, stale: stale?.value }))();
    const written = produced.then(
      async (value) => {
        endSpan(span);
        this.#factoryEvent(key, t0, 'success');
        if (!core.closed && core.mayStore(full, startedAt)) {
          await core.write(
            full,
            value,
            { ttlMs: o.ttlMs, graceMs: o.graceMs, tags: o.tags, createdAt: startedAt, reason: 'factory' },
            this.#eventNs,
          );
        }
        return value;
      },
      (error: unknown) => {
        endSpan(span, error);
        core.counters.factoryErrors++;
        this.#factoryEvent(key, t0, 'error');
        throw error;
      },
    );
    if (stale !== undefined && o.softTimeoutMs !== undefined && core.refreshing.size < MAX_REFRESHING) {
      let outcome: T | typeof SOFT_TIMEOUT;
      try {
        outcome = await withSoftTimeout(written, o.softTimeoutMs, core.clock);
      } catch (error) {
        if (isPerfSerializationError(error)) throw error;
        return this.#serveStale(full, stale, 'factory-error', out);
      }
      if (outcome !== SOFT_TIMEOUT) return outcome;
      core.refreshing.add(full);
      const background = written
        .catch(() => {
          // counted in factoryErrors; the stale value was already served
        })
        .finally(() => core.refreshing.delete(full));
      if (out !== undefined) out.background = background;
      this.#factoryEvent(key, t0, 'timeout');
      return this.#serveStale(full, stale, 'soft-timeout', out);
    }
    try {
      return await written;
    } catch (error) {
      if (stale === undefined || !fallBack || isPerfSerializationError(error)) throw error;
      return this.#serveStale(full, stale, 'factory-error', out);
    }
  }

  #serveStale<T>(
    full: string,
    stale: CacheEntry<T>,
    reason: CacheStaleEvent['reason'],
    out: Loaded<T> | undefined,
  ): T {
    if (out !== undefined) out.result = 'stale';
    this.#core.counters.staleServed++;
    if (ch.stale.hasSubscribers) ch.stale.publish({ namespace: this.#eventNs, key: full, reason });
    return stale.value;
  }

  /** Eager refresh: a hit past `eagerRefresh` of its TTL refreshes the value in the background. */
  #refreshInBackground<T>(
    full: string,
    key: string,
    factory: CacheFactory<T>,
    options: TieredGetOrSetOptions | CheckedGetOrSet | undefined,
    entry: CacheEntry,
  ): void {
    const core = this.#core;
    if (core.closed || core.refreshing.has(full) || core.refreshing.size >= MAX_REFRESHING) return;
    let o: CheckedGetOrSet;
    try {
      o = { ...this.#checkGetOrSet(options), softTimeoutMs: undefined, lock: false, signal: undefined };
    } catch {
      return;
    }
    core.refreshing.add(full);
    core.counters.eagerRefreshes++;
    // Not through the deduplicator: this may be called from inside the key's own dedup run. The
    // value is still fresh, so callers keep hitting it; `refreshing` keeps this to one refresh per key.
    this.#runFactory(full, key, factory, o, entry as CacheEntry<T>, core.abort.signal, undefined, false)
      .catch(() => {
        // counted in factoryErrors; the current value stays until it expires
      })
      .finally(() => core.refreshing.delete(full));
  }

  #factoryEvent(key: string, t0: number, outcome: 'success' | 'error' | 'timeout'): void {
    if (ch.factory.hasSubscribers) {
      ch.factory.publish({ namespace: this.#eventNs, key, durationMs: performance.now() - t0, outcome });
    }
  }

  /**
   * Invalidates every entry carrying any of `tags`, in every tier and instance, without scanning
   * keys: entries are checked against the tags' invalidation times when read.
   * @throws {PerfConfigError} when `tags` is not an array of non-empty strings.
   * @throws {PerfClosedError} after `close()`.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.#core.assertOpen();
    const checked = is.arrayOf(is.nonEmptyString)(tags, {
      owner: 'TieredCache.invalidateTags',
      field: 'tags',
    });
    if (checked.length === 0) return;
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    await this.#core.invalidateTags([...new Set(checked)], this.#eventNs);
    if (started !== 0) this.#operation('invalidateTags', started);
  }

  /**
   * Deletes every key of this view starting with `prefix`: L1 and L2 locally, Redis with SCAN +
   * UNLINK (never KEYS), other instances through the bus.
   * @throws {PerfConfigError} when `prefix` is not a non-empty string.
   * @throws {PerfClosedError} after `close()`.
   */
  async deleteByPrefix(prefix: string): Promise<void> {
    this.#core.assertOpen();
    is.nonEmptyString(prefix, { owner: 'TieredCache.deleteByPrefix', field: 'prefix' });
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    await this.#core.removePrefix(this.#prefix + prefix, this.#eventNs);
    if (started !== 0) this.#operation('deleteByPrefix', started);
  }

  /**
   * Deletes everything in this view: the whole namespace for the root cache, the scope's keys for a scope.
   * @throws {PerfClosedError} after `close()`.
   */
  async clear(): Promise<void> {
    this.#core.assertOpen();
    const started = ch.operation.hasSubscribers ? performance.now() : 0;
    await this.#core.removePrefix(this.#prefix, this.#eventNs);
    if (started !== 0) this.#operation('clear', started);
  }

  /**
   * A view whose keys live under `name` (e.g. one user session): same tiers, stats and
   * connections; `clear()` on it drops only its keys.
   * @throws {PerfConfigError} when `name` is not a non-empty string.
   */
  scope(name: string): TieredCache {
    is.nonEmptyString(name, { owner: 'TieredCache.scope', field: 'name' });
    return new TieredCache(this.#core, `${this.#prefix}${name}:`, `${this.#eventNs}:${name}`);
  }

  /**
   * Writes many entries with bounded concurrency, from an (async) iterable or a loader function.
   * Entries that are refused (bad options, unserializable values) are counted in `failed`.
   * @throws {PerfConfigError} for bad options or a source that is not iterable.
   * @throws {PerfAbortError} when `signal` aborts.
   * @throws {PerfClosedError} after `close()`.
   */
  async warm(source: WarmSource, options?: WarmOptions): Promise<WarmResult> {
    const core = this.#core;
    core.assertOpen();
    const o = checkOptions('TieredCache.warm', options, warmShape);
    const entries = typeof source === 'function' ? await source() : source;
    const iterator = toAsyncIterator(entries);
    const result: WarmResult = { warmed: 0, failed: 0 };
    const worker = async () => {
      for (;;) {
        if (o.signal?.aborted) throw new PerfAbortError('warm() was aborted', { cause: o.signal.reason });
        if (core.closed) return;
        const next = await iterator.next();
        if (next.done) return;
        try {
          await this.#warmOne(next.value);
          result.warmed++;
        } catch (error) {
          result.failed++;
          core.reportError(
            'serializer',
            'warm',
            isPerfSerializationError(error) ? 'serialize' : 'other',
            error,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
    return result;
  }

  async #warmOne(entry: WarmEntry): Promise<void> {
    if (typeof entry !== 'object' || entry === null) {
      throw new PerfConfigError('entry', 'must be an object { key, value, ttlMs?, tags? }', entry, {
        owner: 'TieredCache.warm',
      });
    }
    const { key, value, ...rest } = entry;
    checkKey('TieredCache.warm', key);
    const o = checkOptions('TieredCache.warm', rest, setShape);
    const core = this.#core;
    await core.write(
      this.#full(key),
      value,
      {
        ttlMs: o.ttlMs ?? core.options.defaultTtlMs,
        graceMs: o.graceMs ?? core.options.graceMs,
        tags: checkTags('TieredCache.warm', o.tags),
        createdAt: core.stamp(),
        reason: 'warm',
      },
      this.#eventNs,
    );
  }

  /**
   * Resolves true once Redis answers and the bus is subscribed (at once without L3), false if
   * that takes longer than `timeoutMs` (default 5 s). Not needed before use: calls made before the
   * first connection wait for it within their `l3.commandTimeoutMs`, then go on without Redis.
   * @throws {PerfConfigError} when `timeoutMs` is not a positive number of ms up to 2147483647.
   */
  ready(timeoutMs = 5_000): Promise<boolean> {
    timerMs(timeoutMs, { owner: 'TieredCache.ready', field: 'timeoutMs' });
    return this.#core.ready(timeoutMs);
  }

  /** Counters for the whole cache (scopes share them with their root). */
  stats(): TieredCacheStats {
    return this.#core.counters.snapshot(this.#core.tierNames);
  }

  /**
   * Closes the cache: aborts running factories, stops the bus, and closes the Redis client when
   * the cache created it (never one you passed in). On a scope, `close()` does nothing: the root owns the resources.
   */
  async close(): Promise<void> {
    if (this.#isRoot) await this.#core.close();
  }

  #full(key: string): string {
    return this.#isRoot ? key : this.#prefix + key;
  }

  /**
   * The hot path shared by `get` and `getOrSet`: the L1 slot of `full` when its entry is still fresh
   * (L1 lifetime, TTL and tags), counted as a whole-read hit and published; otherwise -1 and
   * nothing counted (the full lookup then counts the L1 miss).
   */
  #freshL1(full: string, now: number): number {
    const core = this.#core;
    const l1 = core.l1!;
    const i = l1.find(full);
    if (i < 0) return -1;
    const tags = l1.tags[i];
    if (
      (now >= l1.until[i]! && !l1.renew(i, now)) ||
      now >= l1.expiresAt[i]! ||
      (tags !== undefined && !core.tags.isValid(tags, l1.createdAt[i]!))
    )
      return -1;
    l1.touch(i);
    const counters = core.counters;
    counters.l1.hits++;
    counters.hits++;
    if (ch.hit.hasSubscribers) ch.hit.publish({ namespace: this.#eventNs, key: full, tier: 'l1' });
    return i;
  }

  #operation(
    operation: CacheOperationEvent['operation'],
    started: number,
    result?: CacheOperationEvent['result'],
  ): void {
    if (!ch.operation.hasSubscribers) return;
    const durationMs = performance.now() - started;
    ch.operation.publish(
      result === undefined
        ? { namespace: this.#eventNs, operation, durationMs }
        : { namespace: this.#eventNs, operation, result, durationMs },
    );
  }
}

function toAsyncIterator(entries: WarmEntries): AsyncIterator<WarmEntry> {
  if (entries !== null && typeof entries === 'object') {
    const asyncIt = (entries as AsyncIterable<WarmEntry>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return asyncIt.call(entries);
    const syncIt = (entries as Iterable<WarmEntry>)[Symbol.iterator];
    if (typeof syncIt === 'function') {
      const it = syncIt.call(entries);
      return { next: async () => it.next() };
    }
  }
  throw new PerfConfigError(
    'source',
    'must be an iterable, an async iterable or a function returning one',
    entries,
    {
      owner: 'TieredCache.warm',
    },
  );
}
