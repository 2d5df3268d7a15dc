/**
 * The default L2 store: a `Map` that holds at most `max` entries, dropping the least recently
 * written one first. Still a real `Map`, so Keyv treats it as its native in-memory store
 * (iteration for prefix deletes, no string serialization).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly max: number;

  constructor(max: number) {
    super();
    this.max = max;
  }

  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key);
    else if (this.size >= this.max) super.delete(super.keys().next().value as K);
    return super.set(key, value);
  }
}
