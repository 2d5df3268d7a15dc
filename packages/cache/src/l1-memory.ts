/**
 * L1: in-process memory, an LRU bounded by entries and optionally by bytes. Stored compactly, the
 * way lru-cache stores its own entries: one `Map` from key to a slot number, and per slot the key,
 * the value and the entry's times in parallel arrays (typed arrays for the numbers). No object is
 * allocated per entry, so an entry costs little more than in a raw lru-cache (see
 * bench/memory-per-entry.bench.ts). The arrays grow by doubling up to `maxEntries`.
 */
import { CacheEntry } from './entry.js';

/** "No slot" in the linked list. */
const NIL = -1;
const FIRST_CAPACITY = 256;

export class MemoryTier {
  /** Longest an entry stays here when the cache does not say otherwise (see CacheCore.l1Ms). */
  readonly ttlMs: number;
  readonly #max: number;
  readonly #maxBytes: number | undefined;
  readonly #index = new Map<string, number>();
  #capacity = 0;
  /** Slots handed out so far (slots below this are in use or on the free list). */
  #used = 0;
  readonly #free: number[] = [];
  /** Least recently used slot (evicted first) and most recently used one. */
  #head = NIL;
  #tail = NIL;
  #bytes = 0;
  #keys: Array<string | undefined> = [];
  /** Per slot: the value, and the times that govern it (ms since epoch). Read directly on the hot path. */
  values: unknown[] = [];
  createdAt = new Float64Array(0);
  expiresAt = new Float64Array(0);
  staleUntil = new Float64Array(0);
  /**
   * Until when this copy is served with no further check (one compare on the hit path): its whole
   * L1 lifetime, or, while it follows the bus, at most its store time plus the short lifetime, then
   * renewed up to the bus lease (see `renew`).
   */
  until = new Float64Array(0);
  /** The most this copy may stay in L1 (its lifetime; `until` never passes it). */
  longUntil = new Float64Array(0);
  /**
   * The bus lease: a copy past its short lifetime is served on only while `now < leaseUntil` (the
   * subscriber was proven live within the short lifetime; see CacheCore). Infinity when L1 does not
   * follow the bus. Kept here, not on the core, since the hit path already holds this object.
   */
  leaseUntil = Number.POSITIVE_INFINITY;
  /** Allocated only once an entry with eager refresh is stored; Infinity for the others. */
  refreshAt: Float64Array | undefined;
  tags: Array<readonly string[] | undefined> = [];
  #next = new Int32Array(0);
  #prev = new Int32Array(0);
  #sizes: Uint32Array | undefined;

  constructor(options: { maxEntries: number; maxBytes: number | undefined; ttlMs: number }) {
    this.ttlMs = options.ttlMs;
    this.#max = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#grow();
  }

  /** True when `set` needs the entry's size in bytes. */
  get needsSize(): boolean {
    return this.#maxBytes !== undefined;
  }

  get size(): number {
    return this.#index.size;
  }

  /** The slot holding `key`, or -1. Does not count as a use (see `touch`). */
  find(key: string): number {
    return this.#index.get(key) ?? NIL;
  }

  /** Marks slot `i` most recently used. */
  touch(i: number): void {
    if (i === this.#tail) return;
    this.#unlink(i);
    this.#append(i);
  }

  /** The entry in slot `i` as an object (for the slower paths that hand it on). */
  entryAt(i: number): CacheEntry {
    return new CacheEntry(
      this.values[i],
      this.createdAt[i]!,
      this.expiresAt[i]!,
      this.staleUntil[i]!,
      this.refreshAt === undefined ? Number.POSITIVE_INFINITY : this.refreshAt[i]!,
      this.tags[i],
    );
  }

  /**
   * Stores `entry` until `until` (ms since epoch), served past `leaseFree` only while the bus lease
   * holds (see `renew`). With a byte bound, `bytes` is its size; an entry larger than the whole bound
   * is not kept (and any older copy is dropped).
   */
  set(key: string, entry: CacheEntry, until: number, bytes: number, leaseFree = until): void {
    const maxBytes = this.#maxBytes;
    const size = Math.max(1, bytes);
    if (maxBytes !== undefined && size > maxBytes) {
      this.delete(key);
      return;
    }
    let i = this.#index.get(key);
    if (i === undefined) {
      if (this.#index.size >= this.#max) this.#remove(this.#head);
      i = this.#slot();
      this.#keys[i] = key;
      this.#index.set(key, i);
      this.#append(i);
    } else {
      if (this.#sizes !== undefined) this.#bytes -= this.#sizes[i]!;
      this.touch(i);
    }
    this.values[i] = entry.value;
    this.createdAt[i] = entry.createdAt;
    this.expiresAt[i] = entry.expiresAt;
    this.staleUntil[i] = entry.staleUntil;
    this.until[i] = Math.min(leaseFree, until);
    this.longUntil[i] = until;
    this.tags[i] = entry.tags;
    const refreshAt = entry.refreshAt;
    if (this.refreshAt !== undefined) this.refreshAt[i] = refreshAt;
    else if (refreshAt !== Number.POSITIVE_INFINITY) {
      this.refreshAt = new Float64Array(this.#capacity).fill(Number.POSITIVE_INFINITY);
      this.refreshAt[i] = refreshAt;
    }
    if (maxBytes !== undefined) {
      this.#sizes![i] = size;
      this.#bytes += size;
      while (this.#bytes > maxBytes && this.#head !== i) this.#remove(this.#head);
    }
  }

  /**
   * Slot `i` passed `until` at `now`: while the bus lease (`leaseUntil`, proven liveness plus the
   * short lifetime) still holds and the copy's lifetime has not ended, serves it on, with no further
   * check until the lease as it stands (so a stall is noticed within the short lifetime of the last
   * proof). False when the copy is to be treated as expired.
   */
  renew(i: number, now: number): boolean {
    const leaseUntil = this.leaseUntil;
    const longUntil = this.longUntil[i]!;
    if (now >= leaseUntil || now >= longUntil) return false;
    this.until[i] = Math.min(leaseUntil, longUntil);
    return true;
  }

  delete(key: string): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#remove(i);
    return true;
  }

  /** Drops every key starting with `prefix`; returns how many. Walks L1 only (bounded by maxEntries). */
  deletePrefix(prefix: string): number {
    if (prefix === '') {
      const n = this.#index.size;
      this.clear();
      return n;
    }
    const doomed: number[] = [];
    for (const [key, i] of this.#index) if (key.startsWith(prefix)) doomed.push(i);
    for (const i of doomed) this.#remove(i);
    return doomed.length;
  }

  clear(): void {
    this.#index.clear();
    this.#keys.fill(undefined);
    this.values.fill(undefined);
    this.tags.fill(undefined);
    this.#free.length = 0;
    this.#used = 0;
    this.#head = NIL;
    this.#tail = NIL;
    this.#bytes = 0;
  }

  #slot(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#used === this.#capacity) this.#grow();
    return this.#used++;
  }

  #remove(i: number): void {
    this.#index.delete(this.#keys[i]!);
    this.#unlink(i);
    this.#keys[i] = undefined;
    this.values[i] = undefined;
    this.tags[i] = undefined;
    if (this.#sizes !== undefined) this.#bytes -= this.#sizes[i]!;
    this.#free.push(i);
  }

  #append(i: number): void {
    this.#prev[i] = this.#tail;
    this.#next[i] = NIL;
    if (this.#tail === NIL) this.#head = i;
    else this.#next[this.#tail] = i;
    this.#tail = i;
  }

  #unlink(i: number): void {
    const prev = this.#prev[i]!;
    const next = this.#next[i]!;
    if (prev === NIL) this.#head = next;
    else this.#next[prev] = next;
    if (next === NIL) this.#tail = prev;
    else this.#prev[next] = prev;
  }

  /** Doubles the slot arrays (up to maxEntries), copying what they hold. */
  #grow(): void {
    const capacity = Math.min(this.#max, Math.max(FIRST_CAPACITY, this.#capacity * 2));
    const floats = (old: Float64Array) => {
      const next = new Float64Array(capacity);
      next.set(old);
      return next;
    };
    this.createdAt = floats(this.createdAt);
    this.expiresAt = floats(this.expiresAt);
    this.staleUntil = floats(this.staleUntil);
    this.until = floats(this.until);
    this.longUntil = floats(this.longUntil);
    if (this.refreshAt !== undefined) {
      const refreshAt = new Float64Array(capacity).fill(Number.POSITIVE_INFINITY);
      refreshAt.set(this.refreshAt);
      this.refreshAt = refreshAt;
    }
    const ints = (old: Int32Array) => {
      const next = new Int32Array(capacity);
      next.set(old);
      return next;
    };
    this.#next = ints(this.#next);
    this.#prev = ints(this.#prev);
    if (this.#maxBytes !== undefined) {
      const sizes = new Uint32Array(capacity);
      if (this.#sizes !== undefined) sizes.set(this.#sizes);
      this.#sizes = sizes;
    }
    this.#capacity = capacity;
  }
}
