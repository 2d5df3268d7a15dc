import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { pingRedis } from '../../../tooling/redis.js';
import { POSTGRES_ADMIN_URL } from '../src/database.js';
import { runSoak, type SoakInventory } from '../src/soak.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEMO = ['node', 'apps/demo-chat/dist/main.js'];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Everything the run started is gone: database, Redis servers, demo process groups, temp dirs. */
async function expectRemoved(inventory: SoakInventory): Promise<void> {
  expect(inventory.database).toMatch(/^soak_/);
  expect(await databaseExists(inventory.database!)).toBe(false);
  expect(inventory.redisPorts.length).toBeGreaterThan(0);
  for (const port of inventory.redisPorts) expect(await pingRedis(port)).toBe(false);
  for (const pid of inventory.pids) expect(alive(pid)).toBe(false);
  for (const dir of inventory.dirs) expect(existsSync(dir)).toBe(false);
}

const newInventory = (): SoakInventory => ({ redisPorts: [], pids: [], dirs: [] });

/** Outside CI the e2e skips without PostgreSQL; under CI=true a missing server is a failure, never a skip. */
async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (process.env.CI === 'true')
      throw new Error(`CI=true but PostgreSQL does not answer at ${POSTGRES_ADMIN_URL}`, { cause: error });
    return false;
  }
}

describe.skipIf(!(await postgresAvailable()))(
  'soak harness end to end (real demo processes, PostgreSQL, private Redis)',
  () => {
    beforeAll(() => {
      // Under `pnpm test` turbo has built the demo already (@perf/soak depends on it); alone, build it here.
      if (existsSync(join(repoRoot, 'apps/demo-chat/dist/main.js'))) return;
      const build = spawnSync(
        'pnpm',
        ['exec', 'turbo', 'run', 'build', '--filter=@perf/demo-chat...', '--output-logs=errors-only'],
        { cwd: repoRoot, stdio: 'inherit' },
      );
      expect(build.status).toBe(0);
    }, 300_000);

    it('records a seeded history under real faults, checks it, and removes everything', async () => {
      const inventory = newInventory();
      const result = await runSoak({
        topology: 'single',
        durationMs: 40_000,
        seed: 7,
        instances: 3,
        demoCommand: DEMO,
        cwd: repoRoot,
        faults: ['instance-kill-restart', 'redis-kill-restart'],
        inventory,
      });
      const { history, summary, violations } = result;

      // Every kind of operation, spread over the three instances, each with its start, end and result.
      const kinds = new Set(history.ops.map((o) => o.kind));
      expect([...kinds].sort()).toEqual(['create', 'read', 'reply', 'write']);
      expect(new Set(history.ops.map((o) => o.instance))).toEqual(new Set([0, 1, 2]));
      for (const op of history.ops) expect(op.end).toBeGreaterThanOrEqual(op.start);
      const acked = history.ops.filter((o) => o.ok && o.kind === 'write');
      expect(acked.length).toBeGreaterThan(20);
      for (const w of acked) expect(w.messageId).toMatch(/^\d+$/);
      expect(history.ops.some((o) => o.kind === 'read' && o.ok && (o.seen?.length ?? 0) > 0)).toBe(true);
      expect(history.ops.some((o) => o.burst !== undefined)).toBe(true);

      // The faults ran and recovered; the killed instance came back and served again.
      expect(new Set(history.faults.map((f) => f.kind))).toEqual(
        new Set(['instance-kill-restart', 'redis-kill-restart']),
      );
      for (const f of history.faults) expect(f.end).toBeGreaterThan(f.start);
      const kill = history.kills[0]!;
      expect(kill.restartedAt).toBeGreaterThan(kill.at);
      expect(
        history.ops.some((o) => o.instance === kill.instance && o.start > kill.restartedAt! && o.ok),
      ).toBe(true);
      expect(history.crashes).toEqual([]);

      // Resources were sampled from /proc and the instances; Redis connections counted.
      expect(history.resources.some((s) => (s.rssBytes ?? 0) > 10 * 1024 * 1024)).toBe(true);
      expect(history.resources.some((s) => s.healthzMs !== undefined)).toBe(true);
      expect(history.redis.some((s) => s.connections > 0)).toBe(true);

      // PostgreSQL is the source of truth: nothing acknowledged may be missing, nothing invented.
      const rules = violations.map((v) => v.rule);
      expect(rules).not.toContain('acked-write-lost');
      expect(rules).not.toContain('phantom-read');
      for (const v of violations) for (const op of v.ops) expect(history.ops).toContain(op);
      expect(summary.ops.total).toBe(history.ops.length);
      expect(summary.faults['instance-kill-restart']).toBe(history.kills.length);
      expect(summary.faults['redis-kill-restart']).toBeGreaterThanOrEqual(1);
      expect(Object.keys(summary.p99)).toEqual(
        expect.arrayContaining(['warmup', 'faults', 'tail', 'during instance-kill-restart']),
      );

      await expectRemoved(inventory);
    }, 240_000);

    it('removes everything when a demo instance cannot start', async () => {
      const inventory = newInventory();
      await expect(
        runSoak({
          topology: 'single',
          durationMs: 10_000,
          seed: 1,
          instances: 3,
          demoCommand: ['node', '-e', 'process.exit(3)'],
          cwd: repoRoot,
          inventory,
        }),
      ).rejects.toThrow(/exited while starting/);
      await expectRemoved(inventory);
    }, 60_000);

    it('stops early on abort, still checks what it recorded, and removes everything', async () => {
      const inventory = newInventory();
      const controller = new AbortController();
      const started = Date.now();
      const run = runSoak({
        topology: 'single',
        durationMs: 120_000,
        seed: 3,
        instances: 2,
        demoCommand: DEMO,
        cwd: repoRoot,
        signal: controller.signal,
        inventory,
        log: (line) => {
          if (line.startsWith('phase warmup')) setTimeout(() => controller.abort(), 2_000);
        },
      });
      const result = await run;
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(result.history.ops.length).toBeGreaterThan(0);
      expect(result.history.end).toBeLessThan(30_000);
      await expectRemoved(inventory);
    }, 120_000);
  },
);
