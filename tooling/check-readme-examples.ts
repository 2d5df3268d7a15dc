/**
 * Keeps every package README honest. Each README must have the sections users look for (install,
 * example, options, errors, metrics/events and spans), and its example must be the file
 * `examples/readme.ts` verbatim: the README shows
 *
 *     <!-- example: examples/readme.ts -->
 *     ```ts
 *     ...the file...
 *     ```
 *
 * and the consumer tests (tests/consumers) run that file against the installed package, so a
 * broken example fails CI. Run by `pnpm lint`; `--write` copies each file into its README.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const write = process.argv.includes('--write');

/** Headings (`## ...`) a package README must have, each matched by a pattern. */
const REQUIRED_SECTIONS: readonly [string, RegExp][] = [
  ['an "## Example" section', /^## Example\b/m],
  ['an "Options" section (a table of every option)', /^#{2,3} Options\b/m],
  ['an "Errors" section (classes, guards, codes)', /^#{2,3} .*\berrors\b/im],
  ['a section on the metrics or events it emits', /^#{2,3} .*\b(metrics|events?|statistics)\b/im],
  ['a section on the spans it emits', /^#{2,3} .*\bspans\b/im],
];
const MARKER = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n/g;

const problems: string[] = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  const readmePath = join(pkgDir, 'README.md');
  if (!existsSync(readmePath)) continue;
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string };
  let readme = readFileSync(readmePath, 'utf8');
  const where = `packages/${dir}/README.md`;

  if (!readme.includes(`npm i ${manifest.name}`))
    problems.push(`${where}: no install line (\`npm i ${manifest.name}\`)`);
  for (const [what, pattern] of REQUIRED_SECTIONS) {
    if (!pattern.test(readme)) problems.push(`${where}: needs ${what}`);
  }

  const errors = section(readme, /^#{2,3} .*\berrors\b/im);
  if (errors !== undefined && !/`ERR_[A-Z_]+`/.test(errors)) {
    problems.push(`${where}: the errors section must give each error's \`code\` (ERR_...)`);
  }

  const included = [...readme.matchAll(MARKER)];
  if (!included.some((m) => m[1] === 'examples/readme.ts')) {
    problems.push(
      `${where}: the example must be included from examples/readme.ts (<!-- example: examples/readme.ts --> + a ts block)`,
    );
  }
  for (const match of included) {
    const file = match[1] ?? '';
    const filePath = join(pkgDir, file);
    if (!existsSync(filePath)) {
      problems.push(`${where}: includes ${file}, which does not exist`);
      continue;
    }
    const source = readFileSync(filePath, 'utf8');
    if (match[2] === source) continue;
    if (write) readme = readme.replace(match[0], `<!-- example: ${file} -->\n\`\`\`ts\n${source}\`\`\`\n`);
    else
      problems.push(
        `${where}: the block after <!-- example: ${file} --> differs from ${file} (run tsx tooling/check-readme-examples.ts --write)`,
      );
  }
  if (write) writeFileSync(readmePath, readme);
}

/** The text under the first heading matching `heading`, up to the next heading of its level or higher. */
function section(markdown: string, heading: RegExp): string | undefined {
  const match = heading.exec(markdown);
  if (!match) return undefined;
  const level = /^#+/.exec(match[0])?.[0].length ?? 2;
  const rest = markdown.slice(match.index + match[0].length);
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'));
  return end === -1 ? rest : rest.slice(0, end);
}

if (problems.length > 0) {
  console.error(`README checks failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('README examples and sections: ok');
