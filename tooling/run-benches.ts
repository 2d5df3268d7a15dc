/**
 * Runs every bench/*.bench.ts of the package it is started in, one after another, each in its
 * own process so one benchmark's garbage or JIT state does not bleed into the next.
 * `pnpm bench` at the root runs this for every package; `pnpm bench` in a package runs its own.
 * Pass file name fragments to run a subset: `pnpm --filter @perf/cache bench l1`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(process.cwd(), 'bench');
const filters = process.argv.slice(2);
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.bench.ts'))
      .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
      .sort()
  : [];
if (files.length === 0) {
  console.log(`no benchmarks in ${dir}`);
}
for (const file of files) {
  console.log(`\n### ${file}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, file)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
