/**
 * Fails when a tracked file points at a path outside the repository: a relative path that climbs
 * above the repository root (`../notes.md` from the root, `../../../x` from `packages/a/src`),
 * or an absolute path into the machine it was written on (its `/work` tree). Users of the
 * repository have neither. Run by `pnpm lint`; `tsx tooling/check-repo-paths.ts` alone too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEXT = /\.(?:[cm]?[jt]sx?|json|md|ya?ml|toml|sh|txt|html|css)$|(?:^|\/)(?:run|Dockerfile)$/;
/** `../` climbs followed by a path segment, not preceded by a path character or a dot. */
const RELATIVE = /(?<![\w./-])((?:\.\.\/)+)([\w@.-]+)/g;
/** The machine's own work directories (the repository's users have other ones). */
const ABSOLUTE = /(?<![\w.:/-])\/work\/[\w./-]+/g;

export interface Finding {
  file: string;
  line: number;
  text: string;
  why: string;
}

/** Every reference in `content` (of `file`, relative to the root) that leaves the repository. */
export function findOutsidePaths(file: string, content: string): Finding[] {
  const found: Finding[] = [];
  const lines = content.split('\n');
  lines.forEach((line, i) => {
    for (const m of line.matchAll(RELATIVE)) {
      const target = resolve(root, dirname(file), m[1]!, m[2]!);
      const rel = relative(root, target);
      if (rel === '..' || rel.startsWith(`..${sep}`)) {
        found.push({ file, line: i + 1, text: m[0], why: 'climbs above the repository root' });
      }
    }
    for (const m of line.matchAll(ABSOLUTE)) {
      found.push({ file, line: i + 1, text: m[0], why: 'an absolute path outside the repository' });
    }
  });
  return found;
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\0')
    .filter((f) => f !== '' && TEXT.test(f) && !f.endsWith('pnpm-lock.yaml'))
    .filter((f) => f !== 'tooling/check-repo-paths.ts' && f !== 'tooling/check-repo-paths.test.ts');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const findings: Finding[] = [];
  for (const file of trackedFiles()) {
    let content: string;
    try {
      content = readFileSync(join(root, file), 'utf8');
    } catch {
      continue; // deleted in the work tree
    }
    findings.push(...findOutsidePaths(file, content));
  }
  if (findings.length > 0) {
    for (const f of findings) console.error(`${f.file}:${f.line}: ${f.text} (${f.why})`);
    console.error(`\n${findings.length} reference(s) to paths outside the repository.`);
    process.exit(1);
  }
  console.log('check-repo-paths: no references to paths outside the repository');
}
