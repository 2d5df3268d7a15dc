import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * "Test what ships": load the built package by its own name, in a plain Node process (no Vite
 * resolver), once through `import` and once through `require`, and check the exports are there.
 * Node resolves a package's own name from inside it through its `exports` map (self-reference).
 */
export function smokeTestBuiltPackage(packageDir: URL, expectedExports: readonly string[]): void {
  const cwd = fileURLToPath(packageDir);
  const { name } = JSON.parse(readFileSync(new URL('package.json', packageDir), 'utf8')) as { name: string };
  const probe = `Object.keys(m).filter((k) => ${JSON.stringify(expectedExports)}.includes(k)).sort().join(',')`;
  const expected = [...expectedExports].sort().join(',');

  it('loads through import (ESM build)', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(name)}); console.log(${probe});`,
      ],
      { cwd, encoding: 'utf8' },
    );
    expect(out.trim()).toBe(expected);
  });

  it('loads through require (CJS build)', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=commonjs', '-e', `const m = require(${JSON.stringify(name)}); console.log(${probe});`],
      { cwd, encoding: 'utf8' },
    );
    expect(out.trim()).toBe(expected);
  });
}
