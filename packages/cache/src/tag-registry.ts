/**
 * Tag invalidation without scanning: `invalidateTags` records when each tag was invalidated, and
 * an entry carrying tags is valid only if it was created after all of them. Nothing walks the
 * keys. The table is bounded: when a tag is forgotten, its time raises a floor, and an entry
 * with any tag the table does not know is treated as invalidated if it is older than the floor
 * (a miss, never a stale read).
 */
export class TagRegistry {
  readonly #times = new Map<string, number>();
  readonly #max: number;
  #floor = Number.NEGATIVE_INFINITY;

  constructor(maxTags: number) {
    this.#max = maxTags;
  }

  get size(): number {
    return this.#times.size;
  }

  /** Records that `tag` was invalidated at `at` (never moves a time backwards). */
  invalidate(tag: string, at: number): void {
    const known = this.#times.get(tag);
    if (known !== undefined) {
      if (known >= at) return;
      this.#times.delete(tag);
    }
    this.#times.set(tag, at);
    if (this.#times.size > this.#max) {
      const oldest = this.#times.keys().next().value as string;
      const time = this.#times.get(oldest)!;
      this.#times.delete(oldest);
      if (time > this.#floor) this.#floor = time;
    }
  }

  /** True when an entry created at `createdAt` with `tags` survives every invalidation known here. */
  isValid(tags: readonly string[], createdAt: number): boolean {
    for (let i = 0; i < tags.length; i++) {
      const at = this.#times.get(tags[i]!);
      if (at === undefined) {
        if (createdAt <= this.#floor) return false;
      } else if (createdAt <= at) {
        return false;
      }
    }
    return true;
  }
}
