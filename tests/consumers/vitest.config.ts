import { defineConfig } from 'vitest/config';

// Each file installs real projects from tarballs or a local registry: minutes, not milliseconds.
// Files run one after the other so a loaded 2-core machine is not asked to run two sets of installs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
