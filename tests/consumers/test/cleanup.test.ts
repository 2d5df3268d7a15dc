import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { repoRoot } from '../../../tooling/pack-packages.js';
import { consumerEnv } from '../src/consumer-env.js';

/** The registry and every temp folder are gone after a run that fails, not only after one that passes. */
const fixture = fileURLToPath(new URL('fixtures/fail-midway.ts', import.meta.url));
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('cleanup when a consumer run dies', () => {
  it.each(['throw', 'signal'] as const)(
    '%s: the registry process is killed and the temp folders removed',
    async (how) => {
      const child = spawn(tsx, [fixture, how], { env: consumerEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      const started = new Promise<{ dirs: string[]; url: string; pid: number }>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const line = output.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line));
        });
        child.once('exit', (code) =>
          reject(new Error(`fixture exited (${code}) before starting:\n${output}`)),
        );
      });
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const state = await started;
      onTestFinished(() => {
        // Only if the check below fails: do not let the fixture's leftovers outlive this test.
        if (alive(state.pid)) process.kill(-state.pid, 'SIGKILL');
        for (const dir of state.dirs) rmSync(dir, { recursive: true, force: true });
      });
      expect(state.dirs.every((d) => existsSync(d))).toBe(true);
      expect((await fetch(`${state.url}-/ping`)).status).toBe(200);
      if (how === 'signal') child.kill('SIGTERM');
      else child.stdin.write('fail now\n');
      expect(await exited).not.toBe(0);

      expect(state.dirs.filter((d) => existsSync(d))).toEqual([]);
      // SIGKILL to the group is immediate, but the kernel reaps asynchronously: poll, bounded.
      for (let i = 0; i < 50 && alive(state.pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(state.pid)).toBe(false);
      await expect(fetch(`${state.url}-/ping`)).rejects.toThrow();
    },
    60_000,
  );
});
