/** The e2e tests' service helpers, for benchmarks: a missing server skips a benchmark, even in CI. */
import { redisAnswers } from '../../../tooling/redis.js';

export { createDatabase, REDIS_URL, redisPrefix } from '../test/helpers/services.js';

export const redisAnswersOrSkip = () => redisAnswers();

export async function postgresAvailable(): Promise<boolean> {
  const { postgresAvailable: check } = await import('../test/helpers/services.js');
  return check().catch(() => false);
}
