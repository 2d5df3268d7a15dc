/**
 * What Redis missed while it was away: keys whose write or delete failed, prefixes whose
 * deletion failed, and tag invalidations it never recorded. Replayed when Redis returns.
 * Bounded: past `max` items it only remembers that it overflowed, and the re-sync then drops
 * the whole namespace in Redis instead (a miss is always safer than a stale read).
 */
export class PendingSync {
  readonly keys = new Set<string>();
  readonly prefixes = new Set<string>();
  readonly tags = new Map<string, number>();
  overflowed = false;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.keys.size + this.prefixes.size + this.tags.size;
  }

  get empty(): boolean {
    return !this.overflowed && this.size === 0;
  }

  addKey(key: string): void {
    if (this.#room()) this.keys.add(key);
  }

  addPrefix(prefix: string): void {
    if (this.#room()) this.prefixes.add(prefix);
  }

  addTags(tags: readonly string[], at: number): void {
    for (const tag of tags) {
      if (this.#room()) this.tags.set(tag, Math.max(at, this.tags.get(tag) ?? 0));
    }
  }

  clear(): void {
    this.keys.clear();
    this.prefixes.clear();
    this.tags.clear();
    this.overflowed = false;
  }

  #room(): boolean {
    if (this.size < this.#max) return true;
    this.overflowed = true;
    return false;
  }
}
