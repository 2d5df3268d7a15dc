import { defineConfig } from 'vitest/config';

// End-to-end tests start real demo processes (PGlite, Redis, PostgreSQL): one file at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 45_000,
    hookTimeout: 60_000,
  },
});
