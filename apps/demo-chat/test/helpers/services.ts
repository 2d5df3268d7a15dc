/**
 * The real servers the e2e tests use: Redis on 6379 (shared: own key prefix, cleaned), PostgreSQL on
 * 5432 (a database of our own, dropped), and a private redis-server on a free port for outages.
 * Outside CI a missing server skips those tests; with CI=true it fails them.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PrivateRedis, REDIS_URL, redisAvailable } from '../../../../tooling/redis.js';

export { PrivateRedis, REDIS_URL, redisAvailable };

export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: `${POSTGRES_URL}/postgres`,
    connectionTimeoutMillis: 1000,
  });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    if (process.env.CI === 'true')
      throw new Error(`CI=true but PostgreSQL does not answer at ${POSTGRES_URL}`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A new uniquely named database; returns its URL and a function that drops it. */
export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `demo_chat_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `${POSTGRES_URL}/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: `${POSTGRES_URL}/postgres` });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A Redis key prefix of our own, and a function deleting every key under it (SCAN + UNLINK, never FLUSH). */
export function redisPrefix(): { prefix: string; clean: (url?: string) => Promise<void> } {
  const prefix = `demo-chat-test-${Date.now()}-${randomBytes(3).toString('hex')}`;
  return {
    prefix,
    clean: async (url = REDIS_URL) => {
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Direct SQL against a test database (to check nothing was lost). */
export async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
