/**
 * L2: the session tier on Keyv. Holds encoded entries (see envelope.ts) in any Keyv store; by
 * default a private in-memory Map, where Keyv's own serialization is skipped.
 */
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { BoundedMap } from './bounded-map.js';

function isKeyv(value: unknown): value is Keyv {
  return (
    value instanceof Keyv ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Keyv).getMany === 'function' &&
      typeof (value as Keyv).hooks === 'object')
  );
}

export class KeyvTier {
  readonly #keyv: Keyv;
  readonly ttlMs: number;
  #onError: (error: unknown) => void;
  readonly #listener = (error: unknown) => this.#onError(error);

  constructor(options: {
    store: KeyvStoreAdapter | Keyv | Map<unknown, unknown> | undefined;
    ttlMs: number;
    /** Bound of the default in-memory store. */
    maxEntries: number;
    namespace: string;
    onError: (error: unknown) => void;
  }) {
    this.ttlMs = options.ttlMs;
    this.#onError = options.onError;
    if (options.store === undefined) {
      this.#keyv = new Keyv({
        store: new BoundedMap(options.maxEntries),
        namespace: options.namespace,
        serialize: undefined,
        deserialize: undefined,
      });
    } else if (isKeyv(options.store)) {
      this.#keyv = options.store;
    } else {
      this.#keyv = new Keyv({ store: options.store as KeyvStoreAdapter, namespace: options.namespace });
    }
    // Keyv swallows store errors (throwOnErrors is off) and reports them as events.
    this.#keyv.on('error', this.#listener);
  }

  get(key: string): Promise<unknown> {
    return this.#keyv.get(key);
  }

  async set(key: string, bytes: Uint8Array, ttlMs: number): Promise<void> {
    await this.#keyv.set(key, bytes, Math.max(1, Math.ceil(ttlMs)));
  }

  delete(key: string): Promise<boolean> {
    return this.#keyv.delete(key);
  }

  /**
   * Drops every key starting with `prefix`. Walks the store when Keyv can iterate it; otherwise
   * clears the whole tier (dropping more than asked is always safe for a cache).
   */
  async deletePrefix(prefix: string): Promise<void> {
    const iterator = this.#keyv.iterator;
    if (prefix === '' || typeof iterator !== 'function') {
      await this.#keyv.clear();
      return;
    }
    const doomed: string[] = [];
    const namespace = this.#keyv.namespace;
    const prefixed = this.#keyv.useKeyPrefix && namespace !== undefined && namespace !== '';
    // Keyv 5's iterator strips only the first ':'-separated segment of a stored key, which is not
    // the namespace when the namespace itself holds ':'; rebuild the stored key and strip it here.
    const head = prefixed ? `${namespace.split(':')[0]}:` : '';
    const full = prefixed ? `${namespace}:` : '';
    for await (const [yielded] of iterator.call(this.#keyv, namespace) as AsyncIterable<[string, unknown]>) {
      if (typeof yielded !== 'string') continue;
      const stored = head + yielded;
      if (!stored.startsWith(full)) continue;
      const key = stored.slice(full.length);
      if (key.startsWith(prefix)) doomed.push(key);
    }
    if (doomed.length > 0) await this.#keyv.deleteMany(doomed);
  }

  clear(): Promise<void> {
    return this.#keyv.clear();
  }

  close(): void {
    this.#keyv.off('error', this.#listener);
  }
}
