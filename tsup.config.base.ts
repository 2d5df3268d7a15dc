import { defineConfig, type Options } from 'tsup';

/**
 * Shared build for every @perf package: ESM + CJS + declarations from src/index.ts.
 * A package's own tsup.config.ts only calls this, adding entries when it has more.
 */
export function perfTsupConfig(overrides: Partial<Options> = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    ...overrides,
  });
}
