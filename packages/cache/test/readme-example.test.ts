import { describe, expect, it } from 'vitest';
import { createCache } from '../src/index.js';

// The README example, run without Redis (no l3), against a fake database.
describe('README example', () => {
  it('runs as documented', async () => {
    let dbCalls = 0;
    const db = {
      lastMessages: async (room: string, n: number) => {
        dbCalls++;
        await new Promise((r) => setTimeout(r, 5));
        return Array.from({ length: n }, (_, i) => ({ room, i }));
      },
    };
    const roomId = '7';
    const sessionId = 'abc';
    const cache = createCache({ namespace: 'chat', defaultTtlMs: 60_000 });

    const loads = await Promise.all(
      Array.from({ length: 1_000 }, () =>
        cache.getOrSet(`history:${roomId}`, () => db.lastMessages(roomId, 50), {
          tags: [`room:${roomId}`],
          graceMs: 300_000,
          softTimeoutMs: 200,
        }),
      ),
    );
    expect(dbCalls).toBe(1);
    expect(loads[999]).toHaveLength(50);
    // every waiting caller counts as a miss; the loader ran once
    expect(cache.stats()).toMatchObject({ misses: 1_000, factoryRuns: 1 });

    await cache.set(`history:${roomId}`, await db.lastMessages(roomId, 50));
    await cache.invalidateTags([`room:${roomId}`]);
    const session = cache.scope(`session:${sessionId}`);
    await session.set('cart', ['book']);
    expect(await session.get('cart')).toEqual(['book']);
    await session.clear();
    expect(await session.get('cart')).toBeUndefined();
    // the untagged value written by set() survives the tag invalidation and is served from cache
    expect(await cache.getOrSet(`history:${roomId}`, () => db.lastMessages(roomId, 50))).toHaveLength(50);
    expect(dbCalls).toBe(2);
    expect(cache.stats().hits).toBeGreaterThan(0);
    await cache.close();
  });
});
