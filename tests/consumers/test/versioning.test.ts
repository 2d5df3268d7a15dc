import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishablePackages, repoRoot } from '../../../tooling/pack-packages.js';
import { cleanupAll, cleanupOnExit, makeTempDir } from '../src/cleanup.js';
import { consumerEnv } from '../src/consumer-env.js';
import { run } from '../src/exec.js';

/**
 * `pnpm version-packages` (changesets) on a copy of the repository with one pending changeset:
 * only the package that changed and its dependents move, each CHANGELOG says why, VERSION follows,
 * and what `pnpm pack`/`publish` would upload names real ranges, never `workspace:`.
 */
interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

let copy: string;
const before = new Map<string, Manifest>();
const read = (root: string, dir: string): Manifest =>
  JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
const dirOf = (name: string): string => name.replace('@perf/', '');

/** The next version after a minor bump (0.x: 0.1.0 -> 0.2.0). */
const nextMinor = (version: string): string => {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${(minor ?? 0) + 1}.0`;
};
const nextPatch = (version: string): string => {
  const [major, minor, patch] = version.split('.').map(Number);
  return `${major}.${minor}.${(patch ?? 0) + 1}`;
};

beforeAll(async () => {
  cleanupOnExit();
  copy = makeTempDir('versioning');
  // The tracked files (and new, unignored ones) as they are now; node_modules shared by a link.
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(join(repoRoot, f)));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(copy, file));
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
  for (const pkg of publishablePackages()) {
    const manifest = read(copy, dirOf(pkg.name));
    before.set(pkg.name, manifest);
    // The links `pnpm install` makes between workspace packages (pnpm pack reads versions through them).
    const perfDeps = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((d) =>
      d.startsWith('@perf/'),
    );
    for (const dep of perfDeps) {
      const link = join(copy, 'packages', dirOf(pkg.name), 'node_modules', dep);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(copy, 'packages', dirOf(dep)), link);
    }
  }
  // Start from a released state: no pending notes but the one this test writes.
  const changesets = join(copy, '.changeset');
  for (const f of readdirSync(changesets))
    if (f.endsWith('.md') && f !== 'README.md') rmSync(join(changesets, f));
  writeFileSync(
    join(changesets, 'dedup-new-option.md'),
    '---\n"@perf/dedup": minor\n---\n\nA new option users can see.\n',
  );
  execFileSync('git', ['init', '-q'], { cwd: copy }); // changesets reads the repository root from git
  await run('pnpm', ['version-packages'], { cwd: copy, env: consumerEnv(), timeoutMs: 120_000 });
}, 180_000);

afterAll(() => cleanupAll());

describe('pnpm version-packages with one changeset ("@perf/dedup": minor)', () => {
  it('bumps @perf/dedup (minor) and its dependent @perf/cache (patch), nothing else', () => {
    const after = Object.fromEntries(
      publishablePackages().map((p) => [p.name, read(copy, dirOf(p.name)).version]),
    );
    const old = (name: string): string => before.get(name)?.version ?? '';
    expect(after).toEqual({
      ...Object.fromEntries([...before].map(([name, m]) => [name, m.version])),
      '@perf/dedup': nextMinor(old('@perf/dedup')),
      '@perf/cache': nextPatch(old('@perf/cache')),
    });
  });

  it('writes the CHANGELOGs: the note under dedup, the dependency update under cache; others untouched', () => {
    const dedup = readFileSync(join(copy, 'packages/dedup/CHANGELOG.md'), 'utf8');
    expect(dedup).toContain(`## ${nextMinor(before.get('@perf/dedup')?.version ?? '')}`);
    expect(dedup).toContain('A new option users can see.');
    const cache = readFileSync(join(copy, 'packages/cache/CHANGELOG.md'), 'utf8');
    expect(cache).toContain(`## ${nextPatch(before.get('@perf/cache')?.version ?? '')}`);
    expect(cache).toMatch(/Updated dependencies[\s\S]*@perf\/dedup@/);
    for (const dir of ['core', 'resilience', 'metrics', 'tracing']) {
      expect(readFileSync(join(copy, 'packages', dir, 'CHANGELOG.md'), 'utf8'), dir).toBe(
        readFileSync(join(repoRoot, 'packages', dir, 'CHANGELOG.md'), 'utf8'),
      );
    }
    expect(existsSync(join(copy, '.changeset/dedup-new-option.md'))).toBe(false);
  });

  it('keeps VERSION (src/version.ts) in step with package.json', () => {
    for (const dir of ['dedup', 'cache']) {
      const version = read(copy, dir).version;
      expect(readFileSync(join(copy, 'packages', dir, 'src/version.ts'), 'utf8')).toContain(`'${version}'`);
    }
  });

  it('source manifests keep workspace: ranges; the packed (published) manifest has real ones', async () => {
    expect(read(copy, 'cache').dependencies?.['@perf/dedup']).toMatch(/^workspace:/);
    const out = makeTempDir('versioning-pack');
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', out, '--json'], {
      cwd: join(copy, 'packages/cache'),
      env: consumerEnv(),
    });
    const { filename } = JSON.parse(stdout) as { filename: string };
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOzf', filename, 'package/package.json'], { encoding: 'utf8' }),
    ) as Manifest;
    expect(manifest.version).toBe(read(copy, 'cache').version);
    expect(manifest.dependencies?.['@perf/dedup']).toBe(`^${read(copy, 'dedup').version}`);
    expect(manifest.dependencies?.['@perf/core']).toBe(`^${read(copy, 'core').version}`);
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
  });
});
