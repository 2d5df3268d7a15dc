/**
 * One `abort` listener per signal, fanned out to every call waiting on it (internal).
 *
 * Node's `EventTarget.addEventListener` walks the signal's listener list to refuse duplicates, so
 * 10,000 concurrent calls sharing one signal (a shutdown signal, say) would cost O(n²) and trip
 * `MaxListenersExceededWarning`. Here a signal carries one listener while any call waits on it, and
 * none once the last call settles. Waiting calls are stored as they are and handed to one handler,
 * so registering a call allocates no closure.
 */
interface Entry<W> {
  listener: () => void;
  waiters: Set<W>;
}

export class AbortFanout<W> {
  readonly #entries = new WeakMap<AbortSignal, Entry<W>>();
  readonly #onAbort: (waiter: W) => void;

  /** `onAbort` runs once for each waiter still registered when its signal aborts. */
  constructor(onAbort: (waiter: W) => void) {
    this.#onAbort = onAbort;
  }

  add(signal: AbortSignal, waiter: W): void {
    let entry = this.#entries.get(signal);
    if (entry === undefined) {
      const waiters = new Set<W>();
      const listener = (): void => {
        this.#entries.delete(signal);
        for (const w of waiters) this.#onAbort(w);
        waiters.clear();
      };
      entry = { listener, waiters };
      this.#entries.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    entry.waiters.add(waiter);
  }

  /** Forgets `waiter`; the signal's listener goes when no call waits on it any more. */
  remove(signal: AbortSignal, waiter: W): void {
    const entry = this.#entries.get(signal);
    if (entry === undefined) return;
    entry.waiters.delete(waiter);
    if (entry.waiters.size === 0) {
      this.#entries.delete(signal);
      signal.removeEventListener('abort', entry.listener);
    }
  }
}
