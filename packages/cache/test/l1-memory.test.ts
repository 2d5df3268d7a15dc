import { describe, expect, it } from 'vitest';
import { CacheEntry } from '../src/entry.js';
import { MemoryTier } from '../src/l1-memory.js';

const entry = (value: unknown, tags?: string[], refreshAt = Number.POSITIVE_INFINITY) =>
  new CacheEntry(value, 1, 1_000, 2_000, refreshAt, tags);

function tier(maxEntries: number, maxBytes?: number): MemoryTier {
  return new MemoryTier({ maxEntries, maxBytes, ttlMs: Number.POSITIVE_INFINITY });
}

const read = (t: MemoryTier, key: string) => {
  const i = t.find(key);
  return i < 0 ? undefined : t.values[i];
};

describe('MemoryTier (compact L1 LRU)', () => {
  it('stores each field of the entry in its slot and gives it back as an entry', () => {
    const t = tier(10);
    t.set('k', new CacheEntry({ a: 1 }, 5, 100, 200, 80, ['t']), 150, 0);
    const i = t.find('k');
    expect(t.values[i]).toEqual({ a: 1 });
    expect([t.createdAt[i], t.expiresAt[i], t.staleUntil[i], t.until[i], t.refreshAt?.[i]]).toEqual([
      5, 100, 200, 150, 80,
    ]);
    expect(t.entryAt(i)).toMatchObject({ value: { a: 1 }, createdAt: 5, expiresAt: 100, tags: ['t'] });
  });

  it('evicts the least recently used entry; touch() counts as a use', () => {
    const t = tier(3);
    for (const k of ['a', 'b', 'c']) t.set(k, entry(k), 10, 0);
    t.touch(t.find('a'));
    t.set('d', entry('d'), 10, 0); // evicts b
    expect(read(t, 'b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => read(t, k))).toEqual(['a', 'c', 'd']);
    expect(t.size).toBe(3);
  });

  it('grows past its first capacity and reuses freed slots', () => {
    const t = tier(10_000);
    for (let i = 0; i < 5_000; i++) t.set(`k${i}`, entry(i), 10, 0);
    for (let i = 0; i < 5_000; i += 2) t.delete(`k${i}`);
    for (let i = 0; i < 2_500; i++) t.set(`n${i}`, entry(-i), 10, 0);
    expect(t.size).toBe(5_000);
    expect(read(t, 'k4999')).toBe(4999);
    expect(read(t, 'k4998')).toBeUndefined();
    expect(read(t, 'n2499')).toBe(-2499);
  });

  it('bounds by bytes: evicts the oldest, refuses an entry larger than the bound', () => {
    const t = tier(100, 100);
    t.set('a', entry('a'), 10, 40);
    t.set('b', entry('b'), 10, 40);
    t.set('c', entry('c'), 10, 40); // 120 > 100: a goes
    expect(read(t, 'a')).toBeUndefined();
    expect(read(t, 'b')).toBe('b');
    t.set('b', entry('b2'), 10, 90); // replacing b counts its new size only: c goes
    expect(read(t, 'c')).toBeUndefined();
    expect(read(t, 'b')).toBe('b2');
    t.set('b', entry('huge'), 10, 101);
    expect(read(t, 'b')).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('deletes by prefix and clears', () => {
    const t = tier(10);
    for (const k of ['user:1', 'user:2', 'room:1']) t.set(k, entry(k), 10, 0);
    expect(t.deletePrefix('user:')).toBe(2);
    expect(read(t, 'room:1')).toBe('room:1');
    t.clear();
    expect(t.size).toBe(0);
    t.set('again', entry(1), 10, 0);
    expect(read(t, 'again')).toBe(1);
  });
});
