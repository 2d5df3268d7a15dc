/** `pnpm start` as CI runs it: the built showcase, shortened phases, exit 0, table and JSON summary. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('runs warm-up, steady, outage and recovery, prints the summary, writes the JSON and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-showcase-'));
  const file = join(dir, 'summary.json');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/showcase.js'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        DEMO_SUMMARY_FILE: file,
        DEMO_WARMUP_S: '1',
        DEMO_STEADY_S: '3',
        DEMO_OUTAGE_S: '3',
        DEMO_RECOVERY_S: '4',
        DATABASE_URL: '',
        REDIS_URL: '',
      },
      timeout: 55_000,
    });
    for (const row of [
      'requests',
      'latency p50 / p95 / p99',
      'history hit ratio (steady)',
      'database queries saved',
      'duplicate requests prevented',
      'breaker transitions',
      'fallbacks served',
      'dashboard',
    ]) {
      expect(stdout).toContain(row);
    }
    expect(stdout).toContain(`summary written to ${file}`);
    expect(stdout.trim().endsWith('showcase done')).toBe(true);
    const summary = JSON.parse(readFileSync(file, 'utf8'));
    expect(summary.load.phases.map((p: { name: string }) => p.name)).toEqual([
      'warm-up',
      'steady',
      'outage',
      'recovery',
    ]);
    expect(summary.load.total.errors).toBe(0);
    expect(summary.load.total.staleReads).toBe(0);
    expect(summary.fallbacksServed).toBeGreaterThan(0);
    expect(summary.breakerTransitions.map((t: { to: string }) => t.to)).toContain('open');
    expect(summary.steadyHistory.overall).toBeGreaterThanOrEqual(0.9);
    expect(summary.dashboard).toMatchObject({ hitRatio: expect.any(Object), rates: expect.any(Object) });
    expect(summary.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
