/**
 * One cached value with the times that govern it. L1 stores its fields in slot arrays (see
 * l1-memory.ts); L2 and L3 hold it encoded by `encodeEntry` (see envelope.ts).
 */
export class CacheEntry<T = unknown> {
  /** When the value was produced (a stamp from the writer's clock); tags invalidated after it win. */
  readonly createdAt: number;
  /** The value is fresh until this time (ms since epoch). */
  readonly expiresAt: number;
  /** The value may still be served from grace (fail-safe) until this time; `>= expiresAt`. */
  readonly staleUntil: number;
  /** A `getOrSet` hit at or after this time refreshes the value in the background. */
  readonly refreshAt: number;
  /** Tags the entry can be invalidated by, or undefined (the common, cheap case). */
  readonly tags: readonly string[] | undefined;
  readonly value: T;

  constructor(
    value: T,
    createdAt: number,
    expiresAt: number,
    staleUntil: number,
    refreshAt: number,
    tags: readonly string[] | undefined,
  ) {
    this.value = value;
    this.createdAt = createdAt;
    this.expiresAt = expiresAt;
    this.staleUntil = staleUntil;
    this.refreshAt = refreshAt;
    this.tags = tags;
  }
}
