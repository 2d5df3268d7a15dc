/**
 * The chat's behaviour, HTTP aside: ownership, history reads through @perf/cache (coalesced per user
 * by @perf/dedup), writes that update the cached history before they return, and replies from the
 * assistant through its breaker.
 */
import { createCache, type TieredCache } from '@perf/cache';
import { Deduplicator } from '@perf/dedup';
import { Cluster, type Redis } from 'ioredis';
import type { AssistantAnswer, AssistantClient } from './assistant-client.js';
import type { Database } from './database.js';
import { type Conversation, type Message, NotFoundError } from './models.js';

/**
 * @perf/dedup's release script takes the lock key and the done channel as its two KEYS; on a Redis
 * Cluster they must share a slot or Redis refuses it (CROSSSLOT) and followers wait out the lock.
 * A hash tag puts every key of the reply dedup in one slot.
 */
export function dedupPrefix(redis: Redis | Cluster, redisPrefix: string): string {
  return redis instanceof Cluster ? `{${redisPrefix}:dedup}:` : `${redisPrefix}:dedup:`;
}

/** How many messages the cached "latest" page of a conversation holds: every limit up to this is a slice. */
export const LATEST_CACHED = 100;

export interface ChatServiceOptions {
  db: Database;
  assistant: AssistantClient;
  caching: boolean;
  redis?: Redis | Cluster | undefined;
  redisPrefix: string;
}

export interface HistoryQuery {
  limit: number;
  before?: number | undefined;
}

export class ChatService {
  readonly history: TieredCache | undefined;
  /** Conversation records (owner, title) for the ownership check; owners never change. */
  readonly conversations: TieredCache | undefined;
  readonly sessions: TieredCache | undefined;
  /** Coalesces identical history reads in this process (a Redis round trip would cost more than a read). */
  readonly readDedup: Deduplicator;
  /** Coalesces identical reply requests, across instances when Redis is there (a reply is expensive). */
  readonly replyDedup: Deduplicator;
  /** History reads answered (the summary's "queries saved" = these minus history queries). */
  historyReads = 0;
  historyQueries = 0;
  readonly #db: Database;
  readonly #assistant: AssistantClient;
  /** One refresh of a conversation's cached history at a time per process, so they land in order. */
  readonly #refreshing = new Map<number, Promise<void>>();
  /**
   * Per conversation, the newest message whose write returned from this instance: a cached history
   * older than that (another instance's refresh landed late) is never served here; read-your-writes.
   */
  readonly #floor = new Map<number, number>();
  /** Serialized answers per cached history value (weak: they go when the value leaves the cache). */
  readonly #bodies = new WeakMap<Message[], Map<number, string>>();

  constructor(o: ChatServiceOptions) {
    this.#db = o.db;
    this.#assistant = o.assistant;
    const l3 = o.redis ? { l3: { redis: o.redis } } : {};
    if (o.caching) {
      // Alone (no Redis), nothing else changes the data behind this process's back: L1 keeps entries
      // while they are fresh, L2 holds what L1 evicts. With Redis, other instances write too: the
      // cache's defaults keep L1 coherent through the bus (a copy lives the entry's TTL while the
      // subscription is up, 100 ms while it is down), so a write elsewhere is seen within 100 ms
      // either way, and there is no L2 (Redis is the shared copy).
      this.history = createCache({
        namespace: `${o.redisPrefix}.history`,
        defaultTtlMs: 10 * 60_000,
        // On a Cluster the bus cannot vouch for itself (see README, "Redis Cluster"): L1 copies live
        // 100 ms, the cache's own bound while the bus is down, so the 100 ms cross-instance bound holds.
        l1: { maxEntries: 20_000, ...(o.redis instanceof Cluster ? { ttlMs: 100 } : {}) },
        l2: o.redis ? false : { ttlMs: 10 * 60_000, maxEntries: 50_000 },
        ...l3,
      });
      this.conversations = createCache({
        namespace: `${o.redisPrefix}.conversations`,
        defaultTtlMs: 60 * 60_000,
        l1: { maxEntries: 20_000, ttlMs: o.redis ? 10_000 : 60 * 60_000 }, // owners never change
        ...l3,
      });
      // The session tier: per-user data (their conversation list), one scope per user.
      this.sessions = createCache({ namespace: `${o.redisPrefix}.session`, defaultTtlMs: 5 * 60_000, ...l3 });
    }
    this.readDedup = new Deduplicator({ name: 'history-reads', timeoutMs: 10_000, maxInFlight: 10_000 });
    this.replyDedup = new Deduplicator({
      name: 'replies',
      timeoutMs: 15_000,
      ...(o.redis ? { distributed: { redis: o.redis, prefix: dedupPrefix(o.redis, o.redisPrefix) } } : {}),
    });
  }

  async createConversation(userId: string, title: string): Promise<Conversation> {
    const conversation = await this.#db.createConversation(userId, title);
    await this.sessions?.scope(`user:${userId}`).delete('conversations');
    return conversation;
  }

  async listConversations(userId: string): Promise<Conversation[]> {
    const load = () => this.#db.conversationsOf(userId, 100);
    if (!this.sessions) return load();
    return this.sessions.scope(`user:${userId}`).getOrSet('conversations', load);
  }

  /** The conversation if `userId` owns it; a 404 otherwise (someone else's looks like none at all). */
  async ownedConversation(userId: string, id: number): Promise<Conversation> {
    return this.#checkOwner(await this.#conversation(id), userId);
  }

  /**
   * The conversation record. Owners never change, so the lookup is cached long; a missing id is
   * not cached (it may appear). Not async: an L1 hit is the cache's own promise, no extra hop.
   */
  #conversation(id: number): Promise<Conversation> {
    const load = async () => {
      const c = await this.#db.conversation(id);
      if (!c) throw new NotFoundError('conversation');
      return c;
    };
    return this.conversations ? this.conversations.getOrSet(String(id), load) : load();
  }

  #checkOwner(c: Conversation, userId: string): Conversation {
    if (c.ownerId !== userId) throw new NotFoundError('conversation');
    return c;
  }

  /** Messages oldest first: the last `limit`, or the `limit` before message `before`. */
  async messages(userId: string, id: number, q: HistoryQuery): Promise<Message[]> {
    const all = await this.#history(userId, id, q);
    return all.length > q.limit ? all.slice(all.length - q.limit) : all;
  }

  /**
   * The same answer as `messages`, as the JSON body `{"messages":[...]}`. Cached values are
   * immutable and L1 hands out the same object until it is replaced, so the body is serialized once
   * per cached value and limit, not once per request.
   */
  async messagesBody(userId: string, id: number, q: HistoryQuery): Promise<string> {
    const all = await this.#history(userId, id, q);
    const limit = q.limit;
    let bodies = this.#bodies.get(all);
    if (bodies === undefined) {
      bodies = new Map();
      this.#bodies.set(all, bodies);
    }
    let body = bodies.get(limit);
    if (body === undefined) {
      body = JSON.stringify({ messages: all.length > limit ? all.slice(all.length - limit) : all });
      bodies.set(limit, body);
    }
    return body;
  }

  /**
   * The cached (or loaded) list a history answer is cut from: its last `q.limit` entries are the
   * answer. On the hot path (both reads L1 hits) every promise counts: with an AsyncLocalStorage in
   * use (correlation ids), Node 20 runs promise hooks for each one.
   */
  #history(userId: string, id: number, q: HistoryQuery): Promise<Message[]> {
    // Coalesced per user: another user's identical request never joins this one.
    return this.readDedup.run(`${userId}|history|${id}|${q.before ?? ''}|${q.limit}`, async () => {
      this.#checkOwner(await this.#conversation(id), userId);
      this.historyReads++;
      if (q.before !== undefined) {
        const before = q.before;
        const load = () => {
          this.historyQueries++;
          return this.#db.messagesBefore(id, before, q.limit);
        };
        // Older pages never change (messages are append-only), so they need no invalidation.
        const page = this.history
          ? await this.history.getOrSet(`page:${id}:${before}:${q.limit}`, load)
          : await load();
        return page;
      }
      let latest = this.history
        ? await this.history.getOrSet(`latest:${id}`, () => this.#loadLatest(id))
        : await this.#loadLatest(id);
      if ((latest.at(-1)?.id ?? 0) < (this.#floor.get(id) ?? 0)) latest = await this.#refresh(id);
      return latest;
    });
  }

  async addMessage(userId: string, id: number, text: string): Promise<Message> {
    await this.ownedConversation(userId, id);
    const message = await this.#db.addMessage({ conversationId: id, author: 'user', authorId: userId, text });
    this.#raiseFloor(id, message.id);
    if (this.history) await this.#refresh(id);
    return message;
  }

  /** Asks the assistant (through the breaker) and stores its reply, or the fallback's. */
  async reply(userId: string, id: number): Promise<{ message: Message; fallback: boolean; reason?: string }> {
    const result = await this.replyDedup.run(`${userId}|reply|${id}`, async () => {
      await this.ownedConversation(userId, id);
      const recent = await this.messages(userId, id, { limit: 10 });
      const answer: AssistantAnswer = await this.#assistant.reply(recent);
      const message = await this.#db.addMessage({
        conversationId: id,
        author: 'assistant',
        authorId: 'assistant',
        text: answer.text,
      });
      this.#raiseFloor(id, message.id);
      if (this.history) await this.#refresh(id);
      return { message, fallback: answer.fallback, ...(answer.reason ? { reason: answer.reason } : {}) };
    });
    // A follower got the reply another instance wrote: its own next read must show it too, even
    // when the leader's bus notice has not arrived yet (on a Cluster it can come after the result).
    this.#raiseFloor(id, result.message.id);
    return result;
  }

  #loadLatest(id: number): Promise<Message[]> {
    this.historyQueries++;
    return this.#db.latestMessages(id, LATEST_CACHED);
  }

  /**
   * After a write, the cached latest page is replaced (not just dropped) before the write returns,
   * so the writer, and other instances through the bus, read it back at once and hot conversations
   * do not miss after every message. Refreshes of one conversation run one after another here.
   * Across instances two refreshes can land in Redis out of order (the older snapshot last), so each
   * one checks the newest id in the database after its `set` and goes again if it missed one: the
   * last refresh to land always saw every write that had returned before it.
   */
  #refresh(id: number): Promise<Message[]> {
    const history = this.history;
    const previous = this.#refreshing.get(id) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        for (let attempt = 0; ; attempt++) {
          const latest = await this.#loadLatest(id);
          await history?.set(`latest:${id}`, latest);
          const newest = await this.#db.newestMessageId(id);
          if (newest <= (latest.at(-1)?.id ?? 0) || attempt >= 4) return latest;
        }
      });
    const tracked = next.then(
      () => {},
      () => {},
    );
    this.#refreshing.set(id, tracked);
    void tracked.then(() => {
      if (this.#refreshing.get(id) === tracked) this.#refreshing.delete(id);
    });
    return next;
  }

  /** Remembers that a write of message `messageId` returned from this instance (bounded). */
  #raiseFloor(id: number, messageId: number): void {
    if ((this.#floor.get(id) ?? 0) >= messageId) return;
    this.#floor.delete(id);
    this.#floor.set(id, messageId);
    if (this.#floor.size > 10_000) this.#floor.delete(this.#floor.keys().next().value!);
  }

  /** Fills the history cache with the latest page of conversations 1..count (one query). */
  async warm(count: number): Promise<number> {
    if (!this.history || count === 0) return 0;
    const all = await this.#db.latestOfAll(count, LATEST_CACHED);
    const records = await this.#db.conversationsUpTo(count);
    await this.conversations?.warm(
      records.map((c) => ({ key: String(c.id), value: c })),
      { concurrency: 64 },
    );
    const result = await this.history.warm(
      [...all].map(([id, messages]) => ({ key: `latest:${id}`, value: messages })),
      { concurrency: 64 },
    );
    return result.warmed;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#refreshing.values()]);
    await Promise.all([this.readDedup.close(), this.replyDedup.close()]);
    await Promise.all([this.history?.close(), this.conversations?.close(), this.sessions?.close()]);
  }
}
