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

/**
 * How often the subscriber connection PINGs Redis while subscribed. A reply proves the connection
 * delivered everything Redis published before the PING was sent; the cache serves long-lived L1
 * copies only while such a proof is younger than the short lifetime (a lease), so a third of it
 * leaves room for two late replies.
 */
export const HEARTBEAT_MS = 33;
/** A PING unanswered this long no longer blocks sending another (the reply may be lost on a reconnect). */
const PING_GIVE_UP_MS = 1_000;

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
  readonly #onError: (error: unknown) => void;
  readonly #onSubscribed: (first: boolean) => void;
  readonly #onDown: () => void;
  readonly #onAlive: (sentAt: number) => void;
  readonly #now: () => number;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #provenAt = 0;
  /** When the PING still awaiting its reply was sent (0: none outstanding). */
  #pingSentAt = 0;
  #closed = false;
  #subscribed = false;
  #everSubscribed = false;
  /** Callers of `ready()` waiting for the subscription. */
  readonly #waiters = new Set<(ok: boolean) => void>();
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
    /**
     * The subscription is active: the first time (`first`) or again after it was lost. Messages
     * sent before it were not received, so the cache drops what they may have invalidated.
     */
    onSubscribed: (first: boolean) => void;
    /** The subscription was lost (connection closed, e.g. `CLIENT KILL TYPE pubsub`). */
    onDown: () => void;
    /**
     * Redis answered a command the subscriber connection sent at `sentAt`: every message published
     * before then has been received (one connection, replies in order).
     */
    onAlive: (sentAt: number) => void;
    now: () => number;
  }) {
    this.channel = `perf-cache:bus:${options.namespace}`;
    this.#id = options.instanceId;
    this.#onMessage = options.onMessage;
    this.#onInvalid = options.onInvalid;
    this.#onError = options.onError;
    this.#onSubscribed = options.onSubscribed;
    this.#onDown = options.onDown;
    this.#onAlive = options.onAlive;
    this.#now = options.now;
    this.#subscriber = options.client.duplicate();
    this.#subscriber.on('error', options.onError);
    this.#subscriber.on('close', () => {
      if (!this.#subscribed) return;
      this.#subscribed = false;
      if (!this.#closed) this.#onDown();
    });
    // Subscribes on every `ready` (ioredis also re-subscribes on its own; a second SUBSCRIBE is
    // harmless), and counts as subscribed only once Redis confirmed it.
    this.#subscriber.on('ready', this.#subscribe);
    this.#subscriber.on('message', this.#listener);
    if (this.#subscriber.status === 'wait') {
      this.#subscriber.connect().catch((error: unknown) => options.onError(error));
    }
    // Unref'd: the heartbeat never keeps the process alive.
    this.#heartbeat = setInterval(this.#ping, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** One PING at a time: during a stall they would only pile up behind each other. */
  readonly #ping = (): void => {
    if (this.#closed || !this.#subscribed) return;
    const now = this.#now();
    if (this.#pingSentAt !== 0 && now - this.#pingSentAt < PING_GIVE_UP_MS) return;
    const sentAt = now;
    this.#pingSentAt = sentAt;
    this.#subscriber.ping().then(
      () => {
        if (this.#pingSentAt === sentAt) this.#pingSentAt = 0;
        if (this.#closed || !this.#subscribed) return;
        this.#provenAt = Math.max(this.#provenAt, sentAt);
        this.#onAlive(sentAt);
      },
      () => {
        // A lost connection is reported by `close`; the lease simply lapses.
        if (this.#pingSentAt === sentAt) this.#pingSentAt = 0;
      },
    );
  };

  readonly #subscribe = (): void => {
    if (this.#closed) return;
    const sentAt = this.#now();
    this.#subscriber.subscribe(this.channel).then(
      () => {
        if (this.#closed || this.#subscribed || this.#subscriber.status !== 'ready') return;
        this.#subscribed = true;
        this.#pingSentAt = 0;
        this.#provenAt = sentAt;
        this.#onAlive(sentAt);
        const first = !this.#everSubscribed;
        this.#everSubscribed = true;
        for (const release of [...this.#waiters]) release(true);
        this.#onSubscribed(first);
      },
      (error: unknown) => this.#onError(error),
    );
  };

  /**
   * When the latest command answered on the subscriber connection was sent (0 while not subscribed):
   * every message published before then has been received.
   */
  get provenAt(): number {
    return this.#subscribed ? this.#provenAt : 0;
  }

  /** True while the subscription is active: invalidations from other instances arrive. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** The wire form of `message` from this instance. */
  encode(message: BusMessage): string {
    return JSON.stringify({ from: this.#id, ...message });
  }

  /** Resolves true once the subscription is active, false if not within `timeoutMs` or on close. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.#subscribed) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const release = (ok: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(release);
        resolve(ok);
      };
      const timer = setTimeout(() => release(this.#subscribed), timeoutMs);
      timer.unref();
      this.#waiters.add(release);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribed = false;
    clearInterval(this.#heartbeat);
    for (const release of [...this.#waiters]) release(false);
    this.#subscriber.off('message', this.#listener);
    this.#subscriber.off('ready', this.#subscribe);
    this.#subscriber.disconnect();
  }
}
