/**
 * Writes each package's `src/version.ts` from its package.json, so the `VERSION` a package reports
 * (span instrumentation scopes, stats) follows the version changesets just wrote. Run by
 * `pnpm version-packages` right after `changeset version`; `--check` only verifies (used by lint).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'packages');
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const dir of readdirSync(root)) {
  const file = join(root, dir, 'src', 'version.ts');
  if (!existsSync(file)) continue;
  const { version } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const current = readFileSync(file, 'utf8');
  const next = current.replace(/export const VERSION = '[^']*';/, `export const VERSION = '${version}';`);
  if (next === current) continue;
  stale.push(`packages/${dir}/src/version.ts -> ${version}`);
  if (!check) writeFileSync(file, next);
}
if (check && stale.length > 0) {
  console.error(`VERSION out of step with package.json (run pnpm version-packages):\n${stale.join('\n')}`);
  process.exit(1);
}
console.log(
  stale.length > 0
    ? `synced:\n${stale.join('\n')}`
    : 'versions: every src/version.ts matches its package.json',
);
