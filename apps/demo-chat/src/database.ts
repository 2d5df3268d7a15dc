/**
 * The one data layer: drizzle over PostgreSQL, either the real server (DATABASE_URL, through pg) or
 * embedded PGlite (nothing to install). Migrations from ../drizzle run at open, under an advisory lock
 * so that several instances starting against one database migrate and seed it once.
 */
import { fileURLToPath } from 'node:url';
import { and, asc, desc, eq, lt, lte, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Conversation, Message } from './models.js';
import { conversations, messages, schema, users } from './schema.js';

type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Where the migration files live: ../drizzle from src/ (tests) and from dist/ (built) alike. */
const MIGRATIONS = fileURLToPath(new URL('../drizzle', import.meta.url));
const LOCK_ID = 734_201; // pg_advisory_lock key of this app's migrate + seed step

export interface SeedOptions {
  /** Conversations to create when the database has none (ids 1..n, owners `user-<i % users>`). */
  conversations: number;
  users: number;
  /** Messages per seeded conversation. */
  messagesPerConversation: number;
}

export interface DatabaseOptions {
  /** postgres://... for the real server; undefined for embedded PGlite (in memory, or `pglite:<dir>`). */
  url?: string | undefined;
  seed?: SeedOptions | undefined;
}

const toConversation = (r: typeof conversations.$inferSelect): Conversation => ({
  id: r.id,
  ownerId: r.ownerId,
  title: r.title,
  createdAt: r.createdAt.toISOString(),
});
const toMessage = (r: typeof messages.$inferSelect): Message => ({
  id: r.id,
  conversationId: r.conversationId,
  author: r.author,
  authorId: r.authorId,
  text: r.text,
  createdAt: r.createdAt.toISOString(),
});

export class Database {
  readonly kind: 'postgres' | 'pglite';
  /** Queries sent to the database since start (the summary's "queries saved" is reads minus these). */
  queries = 0;
  readonly #db: Db;
  readonly #close: () => Promise<void>;

  private constructor(kind: 'postgres' | 'pglite', db: Db, close: () => Promise<void>) {
    this.kind = kind;
    this.#db = db;
    this.#close = close;
  }

  /** Connects (or starts PGlite), applies migrations and seeds an empty database. */
  static async open(options: DatabaseOptions): Promise<Database> {
    const url = options.url;
    if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) {
      const { default: pg } = await import('pg');
      const { drizzle } = await import('drizzle-orm/node-postgres');
      const { migrate } = await import('drizzle-orm/node-postgres/migrator');
      const pool = new pg.Pool({ connectionString: url, max: 10 });
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
        const locked = drizzle(client, { schema }) as unknown as Db;
        await migrate(locked as never, { migrationsFolder: MIGRATIONS });
        if (options.seed) await seed(locked, options.seed);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => {});
        client.release();
      }
      return new Database('postgres', drizzle(pool, { schema }) as unknown as Db, () => pool.end());
    }
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    const dataDir = url?.startsWith('pglite:') ? url.slice('pglite:'.length) : undefined;
    const client = new PGlite(dataDir);
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder: MIGRATIONS });
    if (options.seed) await seed(db as unknown as Db, options.seed);
    return new Database('pglite', db as unknown as Db, () => client.close());
  }

  async ensureUser(id: string): Promise<void> {
    this.queries++;
    await this.#db.insert(users).values({ id }).onConflictDoNothing();
  }

  async createConversation(ownerId: string, title: string): Promise<Conversation> {
    await this.ensureUser(ownerId);
    this.queries++;
    const [row] = await this.#db.insert(conversations).values({ ownerId, title }).returning();
    return toConversation(row!);
  }

  async conversation(id: number): Promise<Conversation | undefined> {
    this.queries++;
    const [row] = await this.#db.select().from(conversations).where(eq(conversations.id, id));
    return row && toConversation(row);
  }

  async conversationsOf(ownerId: string, limit: number): Promise<Conversation[]> {
    this.queries++;
    const rows = await this.#db
      .select()
      .from(conversations)
      .where(eq(conversations.ownerId, ownerId))
      .orderBy(desc(conversations.id))
      .limit(limit);
    return rows.map(toConversation);
  }

  async addMessage(m: Pick<Message, 'conversationId' | 'author' | 'authorId' | 'text'>): Promise<Message> {
    this.queries++;
    const [row] = await this.#db.insert(messages).values(m).returning();
    return toMessage(row!);
  }

  /** The last `limit` messages, oldest first. */
  async latestMessages(conversationId: number, limit: number): Promise<Message[]> {
    this.queries++;
    const rows = await this.#db
      .select()
      .from(messages)
      .where(eq(messages.conversationId, conversationId))
      .orderBy(desc(messages.id))
      .limit(limit);
    return rows.reverse().map(toMessage);
  }

  /** The id of the conversation's newest message (0 when it has none). */
  async newestMessageId(conversationId: number): Promise<number> {
    this.queries++;
    const [row] = await this.#db
      .select({ id: sql<number>`coalesce(max(${messages.id}), 0)::int` })
      .from(messages)
      .where(eq(messages.conversationId, conversationId));
    return Number(row?.id ?? 0);
  }

  /** The `limit` messages just before message `before`, oldest first (older pages never change). */
  async messagesBefore(conversationId: number, before: number, limit: number): Promise<Message[]> {
    this.queries++;
    const rows = await this.#db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), lt(messages.id, before)))
      .orderBy(desc(messages.id))
      .limit(limit);
    return rows.reverse().map(toMessage);
  }

  /** The last `perConversation` messages of conversations 1..count, grouped (one query, for warm-up). */
  async latestOfAll(count: number, perConversation: number): Promise<Map<number, Message[]>> {
    this.queries++;
    const rows = await this.#db
      .select()
      .from(messages)
      .where(
        sql`${messages.conversationId} <= ${count} and ${messages.id} in (
          select m.id from ${messages} m where m.conversation_id = ${messages.conversationId}
          order by m.id desc limit ${perConversation})`,
      )
      .orderBy(asc(messages.conversationId), asc(messages.id));
    const out = new Map<number, Message[]>();
    for (const row of rows) {
      const list = out.get(row.conversationId);
      if (list === undefined) out.set(row.conversationId, [toMessage(row)]);
      else list.push(toMessage(row));
    }
    return out;
  }

  /** Conversations 1..count (one query, for warm-up). */
  async conversationsUpTo(count: number): Promise<Conversation[]> {
    this.queries++;
    const rows = await this.#db.select().from(conversations).where(lte(conversations.id, count));
    return rows.map(toConversation);
  }

  async ping(): Promise<void> {
    await this.#db.execute(sql`select 1`);
  }

  async close(): Promise<void> {
    await this.#close();
  }
}

/** Fills an empty database with the chat-history workload's conversations, in three statements. */
async function seed(db: Db, o: SeedOptions): Promise<void> {
  const [existing] = await db.select({ n: sql<number>`count(*)::int` }).from(conversations);
  if ((existing?.n ?? 0) > 0) return;
  await db.execute(
    sql`insert into users (id) select 'user-' || g from generate_series(0, ${o.users - 1}) g on conflict do nothing`,
  );
  await db.execute(
    sql`insert into conversations (owner_id, title)
        select 'user-' || ((g - 1) % ${o.users}), 'Conversation ' || g from generate_series(1, ${o.conversations}) g`,
  );
  await db.execute(
    sql`insert into messages (conversation_id, author, author_id, text)
        select c.id, case when k % 2 = 0 then 'assistant' else 'user' end,
               case when k % 2 = 0 then 'assistant' else c.owner_id end,
               'seeded message ' || k || ' of conversation ' || c.id
        from conversations c cross join generate_series(1, ${o.messagesPerConversation}) k
        order by c.id, k`,
  );
}
