/**
 * What Redis missed while it was away: keys whose write or delete failed, prefixes whose
 * deletion failed, and tag invalidations it never recorded. Replayed when Redis returns.
 * Bounded: past `max` items it only remembers that it overflowed, and the re-sync then drops
 * the whole namespace in Redis instead (a miss is always safer than a stale read).
 */
export interface PendingKey {
  /** Stamp of the operation that missed Redis. */
  at: number;
  /**
   * True for a write (`set`, `warm`, or a factory's value), which is written back from its kept bytes
   * (or the local copy); false for a delete. A replay only lands if Redis holds nothing newer.
   */
  rewrite: boolean;
  /** The encoded entry of an explicit write, kept so the replay does not depend on L1/L2 still holding it. */
  bytes?: Uint8Array;
  /** When `bytes` stops being servable (the entry's `staleUntil`). */
  until?: number;
}

/** What a bus notice carries (see bus.ts); kept here so this file needs nothing else. */
export interface PendingNotice {
  kind: 'set' | 'delete' | 'prefix' | 'clear' | 'tags';
  target?: string;
  tags?: string[];
  at?: number;
}

export class PendingSync {
  /** key → the latest write or delete of it that missed Redis. */
  readonly keys = new Map<string, PendingKey>();
  readonly prefixes = new Set<string>();
  readonly tags = new Map<string, number>();
  /** Bus notices that failed to go out after their Redis change landed, by what they are about. */
  readonly notices = new Map<string, PendingNotice>();
  /** More notices failed than `max`: the replay tells others to drop all their local copies instead. */
  noticesOverflowed = false;
  overflowed = false;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.keys.size + this.prefixes.size + this.tags.size;
  }

  get empty(): boolean {
    return !this.overflowed && !this.noticesOverflowed && this.size === 0 && this.notices.size === 0;
  }

  /** Remembers a notice to send again (the newest one about the same thing wins). */
  addNotice(notice: PendingNotice): void {
    const id =
      notice.kind === 'tags'
        ? `tags\0${(notice.tags ?? []).join('\0')}`
        : `${notice.kind}\0${notice.target ?? ''}`;
    if (this.notices.has(id) || this.notices.size < this.#max) this.notices.set(id, notice);
    else this.noticesOverflowed = true;
  }

  /**
   * `rewrite`: the value may be written back (an explicit set, whose `bytes` are kept until
   * `until`); otherwise it is only deleted.
   */
  addKey(
    key: string,
    at: number,
    rewrite: boolean,
    bytes?: Uint8Array,
    until?: number,
    /** A factory's value: replayed when there is room, silently skipped when not (it can be produced again). */
    optional = false,
  ): void {
    const known = this.keys.get(key);
    if (known !== undefined && known.at > at) return;
    if (known === undefined && optional && this.size >= this.#max) return;
    if (known !== undefined || this.#room()) this.keys.set(key, { at, rewrite, bytes, until });
  }

  /**
   * Turns the missed writes of `key` (or, with `prefix`, of every key under it) into deletes: a later
   * delete, prefix delete or another instance's write supersedes them, so their bytes must not be
   * replayed (a replayed delete only lands if Redis holds nothing newer).
   */
  demote(key: string, prefix = false): void {
    if (!prefix) {
      const known = this.keys.get(key);
      if (known?.rewrite) this.keys.set(key, { at: known.at, rewrite: false });
      return;
    }
    for (const [k, known] of this.keys) {
      if (known.rewrite && k.startsWith(key)) this.keys.set(k, { at: known.at, rewrite: false });
    }
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
    this.notices.clear();
    this.noticesOverflowed = false;
    this.overflowed = false;
  }

  #room(): boolean {
    if (this.size < this.#max) return true;
    this.overflowed = true;
    return false;
  }
}
