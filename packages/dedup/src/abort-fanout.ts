/**
 * One `abort` listener per signal, fanned out to every call waiting on it (internal).
 *
 * Node's `EventTarget.addEventListener` walks the signal's listener list to refuse duplicates, so
 * 10,000 concurrent calls sharing one signal (a shutdown signal, say) would cost O(n²) and trip
 * `MaxListenersExceededWarning`. Here a signal carries one listener while any call waits on it, and
 * none once the last call settles.
 */
interface Entry {
  listener: () => void;
  callbacks: Set<() => void>;
}

export class AbortFanout {
  readonly #entries = new WeakMap<AbortSignal, Entry>();

  /** Calls `callback` once if `signal` aborts before `remove(signal, callback)`. */
  add(signal: AbortSignal, callback: () => void): void {
    let entry = this.#entries.get(signal);
    if (entry === undefined) {
      const callbacks = new Set<() => void>();
      const listener = (): void => {
        this.#entries.delete(signal);
        for (const cb of callbacks) cb();
        callbacks.clear();
      };
      entry = { listener, callbacks };
      this.#entries.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    entry.callbacks.add(callback);
  }

  /** Forgets `callback`; the signal's listener goes when no call waits on it any more. */
  remove(signal: AbortSignal, callback: () => void): void {
    const entry = this.#entries.get(signal);
    if (entry === undefined) return;
    entry.callbacks.delete(callback);
    if (entry.callbacks.size === 0) {
      this.#entries.delete(signal);
      signal.removeEventListener('abort', entry.listener);
    }
  }
}
