/** The demo's settings: environment variables for `pnpm demo`, the same fields for tests and the showcase. */
import { z } from 'zod';
import { CHAT_HISTORY } from '../../../tooling/workloads.js';
import { SEED_USERS } from './workload-plan.js';

export const configSchema = z.strictObject({
  /** 127.0.0.1 unless told otherwise: the demo is not hardened for the open internet. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(3000),
  /** postgres://... for the real server; unset for embedded PGlite. */
  databaseUrl: z.string().min(1).optional(),
  /** redis://...: adds L3 and the bus to the caches, distributed dedup and breaker sharing. */
  redisUrl: z.string().min(1).optional(),
  /**
   * host:port,host:port,...: seed nodes of a Redis Cluster. Set, the demo connects with an ioredis
   * `Cluster` (keys routed to their slot's master) instead of one client on `redisUrl`.
   */
  redisClusterNodes: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'expected host:port,host:port,...')
    .refine((v) => parseNodeList(v).every((n) => n.port >= 1 && n.port <= 65_535), 'port out of 1-65535')
    .optional(),
  /** Prefix of every Redis key and channel this instance uses (tests give each run its own). */
  redisPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('demo-chat'),
  /** Off: every history read goes to the database (the benchmark's baseline). */
  caching: z.boolean().default(true),
  seedConversations: z.number().int().min(0).default(CHAT_HISTORY.conversations),
  /** Fill the caches from the database at start (off: start cold, as after a flush). */
  warm: z.boolean().default(true),
  seedUsers: z.number().int().min(1).default(SEED_USERS),
  seedMessages: z.number().int().min(0).max(100).default(3),
  /** Assistant upstream base URL; unset: the demo starts its own on a free port. */
  assistantUrl: z.string().url().optional(),
  assistantLatencyMs: z.number().int().min(0).default(20),
  assistantErrorRate: z.number().min(0).max(1).default(0),
  assistantTimeoutMs: z.number().int().min(1).default(1_000),
  breakerHalfOpenAfterMs: z.number().int().min(1).default(2_000),
  /** p99 budget of the API, for the alert. */
  p99BudgetMs: z.number().positive().default(250),
  bodyLimitBytes: z.number().int().min(256).default(16_384),
  shutdownTimeoutMs: z.number().int().min(100).default(10_000),
  /** Fastify's per-request "incoming request" / "request completed" lines (off for load tests). */
  requestLogging: z.boolean().default(true),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** `REDIS_CLUSTER_NODES`' format, parsed (already validated by the schema). */
export function parseNodeList(value: string): { host: string; port: number }[] {
  return value.split(',').map((entry) => {
    const item = entry.trim();
    const colon = item.lastIndexOf(':');
    return { host: item.slice(0, colon), port: Number(item.slice(colon + 1)) };
  });
}

export type DemoConfig = z.infer<typeof configSchema>;
export type DemoConfigInput = z.input<typeof configSchema>;

/** Reads `pnpm demo`'s environment; a bad value throws naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const num = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]));
  const names: Record<string, string> = {
    host: 'HOST',
    port: 'PORT',
    databaseUrl: 'DATABASE_URL',
    redisUrl: 'REDIS_URL',
    redisClusterNodes: 'REDIS_CLUSTER_NODES',
    redisPrefix: 'DEMO_REDIS_PREFIX',
    caching: 'DEMO_CACHING',
    seedConversations: 'DEMO_SEED_CONVERSATIONS',
    warm: 'DEMO_WARM',
    assistantUrl: 'ASSISTANT_URL',
    assistantLatencyMs: 'ASSISTANT_LATENCY_MS',
    assistantErrorRate: 'ASSISTANT_ERROR_RATE',
    logLevel: 'LOG_LEVEL',
    requestLogging: 'DEMO_REQUEST_LOGS',
  };
  const raw = {
    host: env.HOST || undefined,
    port: num('PORT'),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    redisClusterNodes: env.REDIS_CLUSTER_NODES || undefined,
    redisPrefix: env.DEMO_REDIS_PREFIX || undefined,
    caching: env.DEMO_CACHING === undefined ? undefined : env.DEMO_CACHING !== 'off',
    seedConversations: num('DEMO_SEED_CONVERSATIONS'),
    warm: env.DEMO_WARM === undefined ? undefined : env.DEMO_WARM !== 'off',
    assistantUrl: env.ASSISTANT_URL || undefined,
    assistantLatencyMs: num('ASSISTANT_LATENCY_MS'),
    assistantErrorRate: num('ASSISTANT_ERROR_RATE'),
    logLevel: env.LOG_LEVEL || undefined,
    requestLogging: env.DEMO_REQUEST_LOGS === undefined ? undefined : env.DEMO_REQUEST_LOGS !== 'off',
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new Error(`${names[field] ?? field}: ${issue.message}`);
  }
  return parsed.data;
}
