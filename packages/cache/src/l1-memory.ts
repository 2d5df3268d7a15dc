/** L1: in-process memory on lru-cache, bounded by entries and optionally by bytes. */
import { LRUCache } from 'lru-cache';
import type { CacheEntry } from './entry.js';

export class MemoryTier {
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #bytesBounded: boolean;
  /** Longest an entry stays here; Infinity when L1 is the only tier and no ttlMs was given. */
  readonly ttlMs: number;

  constructor(options: { maxEntries: number; maxBytes: number | undefined; ttlMs: number }) {
    this.ttlMs = options.ttlMs;
    this.#bytesBounded = options.maxBytes !== undefined;
    this.#lru = new LRUCache<string, CacheEntry>(
      options.maxBytes === undefined
        ? { max: options.maxEntries }
        : { max: options.maxEntries, maxSize: options.maxBytes, maxEntrySize: options.maxBytes },
    );
  }

  /** True when `set` needs the entry's size in bytes. */
  get needsSize(): boolean {
    return this.#bytesBounded;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The stored entry, fresh or not: the caller checks its times. */
  get(key: string): CacheEntry | undefined {
    return this.#lru.get(key);
  }

  /**
   * Stores `entry` until `until` (ms since epoch). With a byte bound, `bytes` is its size; an entry
   * larger than the whole bound is not kept (and any older copy is dropped).
   */
  set(key: string, entry: CacheEntry, until: number, bytes: number): void {
    entry.l1Until = until;
    if (this.#bytesBounded) {
      this.#lru.set(key, entry, { size: Math.max(1, bytes) });
      if (this.#lru.peek(key) !== entry) this.#lru.delete(key);
    } else {
      this.#lru.set(key, entry);
    }
  }

  delete(key: string): boolean {
    return this.#lru.delete(key);
  }

  /** Drops every key starting with `prefix`; returns how many. Walks L1 only (bounded by maxEntries). */
  deletePrefix(prefix: string): number {
    if (prefix === '') {
      const n = this.#lru.size;
      this.#lru.clear();
      return n;
    }
    const doomed: string[] = [];
    for (const key of this.#lru.keys()) if (key.startsWith(prefix)) doomed.push(key);
    for (const key of doomed) this.#lru.delete(key);
    return doomed.length;
  }

  clear(): void {
    this.#lru.clear();
  }
}
