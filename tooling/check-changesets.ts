/**
 * Fails when a pending changeset would not parse or names a package that does not exist, so a
 * broken release note is caught in CI rather than at release time. Run by `pnpm lint`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packages = new Set<string>();
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, group))) {
    const manifest = JSON.parse(readFileSync(join(root, group, dir, 'package.json'), 'utf8')) as {
      name: string;
      private?: boolean;
    };
    if (!manifest.private) packages.add(manifest.name);
  }
}

const problems: string[] = [];
const dir = join(root, '.changeset');
const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md');
for (const file of files) {
  const text = readFileSync(join(dir, file), 'utf8');
  const match = /^---\n((?:"[^"\n]+": (?:major|minor|patch)\n)+)---\n\n?(\S[\s\S]*)$/.exec(text);
  if (!match) {
    problems.push(
      `${file}: expected front matter of '"@perf/name": major|minor|patch' lines between --- and a summary`,
    );
    continue;
  }
  for (const line of match[1]!.trim().split('\n')) {
    const name = line.slice(1, line.indexOf('"', 1));
    if (!packages.has(name)) problems.push(`${file}: "${name}" is not a publishable package here`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`changesets: ${files.length} valid`);
