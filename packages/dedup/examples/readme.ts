import { createServer } from 'node:http';
import { createRequestKey, Deduplicator, dedupMiddleware } from '@perf/dedup';

// A stand-in for your upstream call.
const loadProfile = async (userId: string, signal?: AbortSignal) => {
  signal?.throwIfAborted();
  return { id: userId, name: `user ${userId}` };
};

const dedup = new Deduplicator({ name: 'profiles', timeoutMs: 10_000 });

// 100 concurrent callers -> one load; all get the same value (or the same error).
function getProfile(userId: string, signal?: AbortSignal) {
  return dedup.run(`profile:${userId}`, (opSignal) => loadProfile(userId, opSignal), {
    signal,
    timeoutMs: 2_000, // this caller's own bound and cancellation
  });
}
const profiles = await Promise.all(Array.from({ length: 100 }, () => getProfile('42')));
console.log(profiles.length, dedup.stats().leaders); // 100 1

// Who led, whom did I join, how long did I wait?
const { value, info } = await dedup.runDetailed('profile:42', () => loadProfile('42'));
console.log(value.name, info.role, info.outcome); // info: { role, correlationId, waitedMs, outcome, ... }

// A key for "the same request", never shared between two users:
const key = createRequestKey({
  method: 'GET',
  url: '/profiles/42',
  headers: { accept: 'application/json' },
  identity: 'user-7',
});
console.log(key);

// node:http (Express: app.use(dedupMiddleware()); Fastify: app.register(fastifyDedup))
const mw = dedupMiddleware();
const server = createServer((req, res) => mw(req, res, () => res.end('hello')));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
server.close();
console.log(dedup.stats()); // { total, leaders, followers, inFlight, timeouts, errors, aborted, bypassed, dedupRatio, ... }
