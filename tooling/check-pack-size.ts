/**
 * Packed size per package (the .tgz `pnpm publish` uploads) against a budget per package. The
 * sizes and budgets live in the root README, between the pack-sizes markers, so the numbers users
 * read are the ones CI enforces. Run by `pnpm lint` (after `pnpm build`).
 *
 *   tsx tooling/check-pack-size.ts                  fails when a package is over its budget
 *   tsx tooling/check-pack-size.ts --write          rewrites the measured sizes, keeps the budgets
 *   tsx tooling/check-pack-size.ts --reset-budgets  budget = measured size + 10% (for a deliberate growth)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packPackages, repoRoot } from './pack-packages.js';

/** Hard ceilings no reset may exceed, in bytes. */
const CEILINGS: Record<string, number> = { '@perf/core': 60_000 };
const HEADROOM = 1.1;
const START = '<!-- pack-sizes:start -->';
const END = '<!-- pack-sizes:end -->';

const reset = process.argv.includes('--reset-budgets');
const write = reset || process.argv.includes('--write');
const readmePath = join(repoRoot, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start === -1 || end === -1) throw new Error(`README.md lost its ${START} / ${END} markers`);

const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`;
const parseKb = (text: string): number => Math.round(Number.parseFloat(text) * 1000);

// | `@perf/core` | 55.7 kB | 60.0 kB |
const budgets = new Map<string, number>();
for (const match of readme
  .slice(start, end)
  .matchAll(/^\| `(@perf\/[a-z-]+)` +\| [\d.]+ kB +\| ([\d.]+) kB +\|$/gm)) {
  budgets.set(match[1] ?? '', parseKb(match[2] ?? '0'));
}

const out = mkdtempSync(join(tmpdir(), 'perf-pack-size-'));
let packed: Awaited<ReturnType<typeof packPackages>>;
try {
  packed = (await packPackages(out)).sort((a, b) => a.name.localeCompare(b.name));
} finally {
  rmSync(out, { recursive: true, force: true });
}

const problems: string[] = [];
const rows = packed.map((pkg) => {
  const ceiling = CEILINGS[pkg.name] ?? Number.POSITIVE_INFINITY;
  let budget = budgets.get(pkg.name);
  if (reset || budget === undefined)
    budget = Math.min(Math.ceil((pkg.packedBytes * HEADROOM) / 100) * 100, ceiling);
  if (pkg.packedBytes > budget)
    problems.push(`${pkg.name}: ${kB(pkg.packedBytes)} packed, over its ${kB(budget)} budget`);
  if (budget > ceiling) problems.push(`${pkg.name}: budget ${kB(budget)} exceeds the ${kB(ceiling)} ceiling`);
  if (!budgets.has(pkg.name) && !write)
    problems.push(`${pkg.name}: no budget in README.md (run with --reset-budgets)`);
  return { name: pkg.name, bytes: pkg.packedBytes, budget };
});

const table = [
  '| package | packed | budget |',
  '| --- | --- | --- |',
  ...rows.map((r) => `| \`${r.name}\` | ${kB(r.bytes)} | ${kB(r.budget)} |`),
].join('\n');
for (const r of rows) console.log(`${r.name.padEnd(17)} ${kB(r.bytes).padStart(9)}  budget ${kB(r.budget)}`);

if (write) {
  writeFileSync(readmePath, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
  console.log(`README.md: pack sizes ${reset ? 'and budgets ' : ''}written`);
}
if (problems.length > 0) {
  console.error(`pack size check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
