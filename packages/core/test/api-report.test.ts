/**
 * The public-API report (`tooling/api-report.ts`, run by `pnpm lint`) on a throwaway package:
 * an added export, a removed one or a changed signature changes the report, comments do not.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryPoints, reportPackage } from '../../../tooling/api-report.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function fakePackage(index: string, internal?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'perf-api-report-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'dist'));
  const exports: Record<string, unknown> = {
    '.': { import: { types: './dist/index.d.ts', default: './dist/index.js' } },
    './package.json': './package.json',
  };
  if (internal !== undefined) {
    exports['./internal'] = { import: { types: './dist/internal.d.ts', default: './dist/internal.js' } };
    writeFileSync(join(dir, 'dist', 'internal.d.ts'), internal);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@perf/fake', exports }));
  writeFileSync(join(dir, 'dist', 'index.d.ts'), index);
  return dir;
}

const base = `
/** Makes a thing. */
declare function make(size: number): string;
declare const VERSION = "0.1.0";
export { make, VERSION };
`;

describe('api-report', () => {
  it('lists every entry point of exports but package.json', () => {
    const dir = fakePackage(base, 'declare function helper(): void;\nexport { helper };\n');
    expect(Object.keys(entryPoints(dir))).toEqual(['.', './internal']);
    const report = reportPackage(dir);
    expect(report).toContain('## @perf/fake\n');
    expect(report).toContain('## @perf/fake/internal\n');
    expect(report).toContain('declare function helper(): void;');
  });

  it('prints each export without comments, VERSION by type only', () => {
    const report = reportPackage(fakePackage(base));
    expect(report).toContain('// make\ndeclare function make(size: number): string;');
    expect(report).toContain('// VERSION\ndeclare const VERSION: string;');
    expect(report).not.toContain('Makes a thing');
  });

  it('changes on an added export, a removed one and a changed signature; not on comments', () => {
    const before = reportPackage(fakePackage(base));
    const added = reportPackage(fakePackage(`${base}declare const leaked: number;\nexport { leaked };\n`));
    const removed = reportPackage(
      fakePackage('declare function make(size: number): string;\nexport { make };\n'),
    );
    const changed = reportPackage(fakePackage(base.replace('size: number', 'size: string')));
    const recommented = reportPackage(fakePackage(base.replace('Makes a thing.', 'Builds a thing.')));
    expect(added).not.toBe(before);
    expect(added).toContain('// leaked');
    expect(removed).not.toBe(before);
    expect(changed).not.toBe(before);
    expect(recommented).toBe(before);
  });

  it('resolves computed types, so a change in an unexported list they are built from counts', () => {
    const list = (events: string) =>
      `declare const EVENTS: { ${events} };\ntype EventName = keyof typeof EVENTS;\nexport { EventName };\n`;
    const before = reportPackage(fakePackage(list('hit: 1; miss: 2')));
    const after = reportPackage(fakePackage(list('hit: 1; miss: 2; stale: 3')));
    expect(before).toContain('//   resolves to "hit"');
    expect(after).toContain('//   resolves to "stale"');
    expect(after).not.toBe(before);
  });
});
