import { Socket } from 'node:net';

/** Where integration tests find Redis; they use key prefixes they own and clean up. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Answers whether a Redis server replies PONG at REDIS_URL within `timeoutMs`. */
export async function redisAnswers(timeoutMs = 500): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(url.port || 6379), url.hostname, () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/**
 * For `describe.skipIf(!(await redisAvailable()))`: outside CI, integration tests skip when no
 * Redis runs; under CI=true a missing Redis is a failure, never a silent skip.
 */
export async function redisAvailable(): Promise<boolean> {
  const ok = await redisAnswers();
  if (!ok && process.env.CI === 'true') {
    throw new Error(
      `CI=true but Redis does not answer at ${REDIS_URL}: integration tests must not skip in CI`,
    );
  }
  return ok;
}
