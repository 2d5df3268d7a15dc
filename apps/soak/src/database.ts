import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the harness finds PostgreSQL (trust auth); it only ever creates and drops its own database. */
export const POSTGRES_ADMIN_URL =
  process.env.SOAK_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throw-away PostgreSQL database with a unique name, dropped by `drop()` (idempotent). */
export class ThrowawayDatabase {
  readonly name = `soak_${process.pid}_${randomBytes(4).toString('hex')}`;
  #created = false;

  get url(): string {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  async create(): Promise<void> {
    await admin(`CREATE DATABASE "${this.name}"`);
    this.#created = true;
  }

  /** Drops it even while demo connections remain (WITH (FORCE), PostgreSQL 13+). */
  async drop(): Promise<void> {
    if (!this.#created) return;
    await admin(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
    this.#created = false;
  }

  /** Every stored message: id -> conversation id (the demo's `messages` table). */
  async messages(): Promise<Map<string, string>> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      const result = await client.query<{ id: string; conversation_id: string }>(
        'SELECT id::text AS id, conversation_id::text AS conversation_id FROM messages',
      );
      return new Map(result.rows.map((r) => [r.id, r.conversation_id]));
    } finally {
      await client.end();
    }
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
