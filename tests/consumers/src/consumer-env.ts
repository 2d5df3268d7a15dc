import { join } from 'node:path';

/**
 * The environment for a consumer's npm, pnpm, node and tsc: this process's, minus what the pnpm
 * that runs the tests injected (`npm_config_*`, `npm_package_*`, `PNPM_*`...), so a consumer
 * project sees only its own .npmrc, as a user's would.
 */
export function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|VITEST|TEST$|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  // PERF_CONSUMER_CACHE_DIR=<dir>: npm's cache and pnpm's store there (an empty dir measures a clean machine).
  const cacheDir = process.env.PERF_CONSUMER_CACHE_DIR;
  if (cacheDir) {
    env.npm_config_cache = join(cacheDir, 'npm');
    env.npm_config_store_dir = join(cacheDir, 'pnpm-store');
    env.npm_config_cache_dir = join(cacheDir, 'pnpm-cache');
  }
  return env;
}

/** Runs the jobs with at most `limit` at a time; rejects with the first failure once all settled. */
export async function runPool(jobs: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  const queue = [...jobs];
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      try {
        await job();
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
