/**
 * The invalidation bus: Redis pub/sub on one channel per namespace. Each instance publishes what
 * it changed and drops its own L1/L2 copies when another instance's message arrives. The
 * subscriber is a duplicate of the L3 client that the bus owns and closes.
 */
import type { Cluster, Redis } from 'ioredis';

export type BusMessageKind = 'set' | 'delete' | 'prefix' | 'clear' | 'tags';

export interface BusMessage {
  kind: BusMessageKind;
  /** The key (`set`, `delete`) or prefix (`prefix`), as the tiers store it. */
  target?: string;
  tags?: string[];
  /** The invalidation time of `tags`. */
  at?: number;
}

interface WireMessage extends BusMessage {
  /** Sender instance id: an instance ignores its own messages. */
  from: string;
}

const KINDS: ReadonlySet<string> = new Set(['set', 'delete', 'prefix', 'clear', 'tags']);

/** Parses a message from the wire; undefined for anything malformed. */
export function parseBusMessage(raw: string): (BusMessage & { from: string }) | undefined {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Partial<WireMessage>;
  if (typeof m.from !== 'string' || typeof m.kind !== 'string' || !KINDS.has(m.kind)) return undefined;
  if (m.target !== undefined && typeof m.target !== 'string') return undefined;
  if (m.tags !== undefined && !(Array.isArray(m.tags) && m.tags.every((t) => typeof t === 'string')))
    return undefined;
  if (m.at !== undefined && typeof m.at !== 'number') return undefined;
  return { from: m.from, kind: m.kind, target: m.target, tags: m.tags, at: m.at };
}

export class CacheBus {
  readonly channel: string;
  readonly #id: string;
  readonly #subscriber: Redis | Cluster;
  readonly #onMessage: (message: BusMessage) => void;
  readonly #onInvalid: () => void;
  readonly #subscribed: Promise<boolean>;
  #closed = false;
  readonly #listener = (channel: string, raw: string) => {
    if (channel !== this.channel) return;
    const message = parseBusMessage(raw);
    if (message === undefined) {
      this.#onInvalid();
      return;
    }
    if (message.from === this.#id) return;
    this.#onMessage(message);
  };

  constructor(options: {
    client: Redis | Cluster;
    namespace: string;
    instanceId: string;
    onMessage: (message: BusMessage) => void;
    onInvalid: () => void;
    onError: (error: unknown) => void;
    onReconnect: () => void;
  }) {
    this.channel = `perf-cache:bus:${options.namespace}`;
    this.#id = options.instanceId;
    this.#onMessage = options.onMessage;
    this.#onInvalid = options.onInvalid;
    this.#subscriber = options.client.duplicate();
    let wasDown = false;
    this.#subscriber.on('error', options.onError);
    this.#subscriber.on('close', () => {
      wasDown = true;
    });
    this.#subscriber.on('ready', () => {
      // Messages sent while the subscriber was away are lost: the cache re-syncs.
      if (wasDown && !this.#closed) {
        wasDown = false;
        options.onReconnect();
      }
    });
    this.#subscriber.on('message', this.#listener);
    this.#subscribed = this.#subscriber.subscribe(this.channel).then(
      () => true,
      (error: unknown) => {
        options.onError(error);
        return false;
      },
    );
  }

  /** The wire form of `message` from this instance. */
  encode(message: BusMessage): string {
    return JSON.stringify({ from: this.#id, ...message });
  }

  /** Resolves true once the subscription is active, false if subscribing failed. */
  ready(): Promise<boolean> {
    return this.#subscribed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.off('message', this.#listener);
    this.#subscriber.disconnect();
  }
}
