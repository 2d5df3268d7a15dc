import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything a consumer test leaves behind (temp folders, child processes) is registered here and
 * removed by `cleanupAll()` from `afterAll`, and again from process exit and signal handlers, so a
 * failing or interrupted run still leaves nothing.
 */
const dirs = new Set<string>();
const children = new Set<ChildProcess>();

export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `perf-consumer-${label}-`));
  dirs.add(dir);
  return dir;
}

export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills our own children (their process groups: they were spawned detached) and removes our dirs. */
export function cleanupAll(): void {
  for (const child of children) killTree(child);
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  dirs.clear();
}

function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // the group: the child and anything it started
  } catch {
    child.kill('SIGKILL');
  }
}

let hooked = false;
/** Installs exit and signal handlers once per worker. */
export function cleanupOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** `du -sk` of a folder, in KiB (what the report calls installed size). */
export function duKib(dir: string): number {
  const out = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Number.parseInt(out.stdout.split('\t')[0] ?? '0', 10);
}
