import { type Cache, isPerfClosedError, isPerfConfigError, isPerfKeyError, ManualClock } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { createBreakerRegistry } from '../src/index.js';
import { boom, ok, settle } from './support/helpers.js';

describe('keyed breaker registry', () => {
  it('returns one breaker per key, named <registry>:<key>', () => {
    const breakers = createBreakerRegistry({ name: 'llm', defaults: { clock: new ManualClock() } });
    const a = breakers.get('openai:eu');
    expect(breakers.get('openai:eu')).toBe(a);
    expect(breakers.get('anthropic:us')).not.toBe(a);
    expect(a.name).toBe('llm:openai:eu');
    expect(breakers.size).toBe(2);
  });

  it('keys are isolated: one upstream opening does not affect another', async () => {
    const breakers = createBreakerRegistry({ defaults: { failureThreshold: 1, clock: new ManualClock() } });
    await settle(breakers.get('down').execute(boom()));
    expect(breakers.get('down').state).toBe('open');
    expect(await breakers.get('up').execute(ok('fine'))).toBe('fine');
    expect(breakers.stats().states).toEqual({ closed: 1, open: 1, 'half-open': 0, isolated: 0 });
  });

  it('is bounded: past maxBreakers the least recently used breaker is evicted and closed', async () => {
    const breakers = createBreakerRegistry({ maxBreakers: 3, defaults: { clock: new ManualClock() } });
    const first = breakers.get('a');
    breakers.get('b');
    breakers.get('c');
    breakers.get('a'); // a is now most recently used
    breakers.get('d');
    expect(breakers.keys()).toEqual(['c', 'a', 'd']);
    breakers.get('e');
    expect(breakers.size).toBe(3);
    expect(breakers.keys()).toEqual(['a', 'd', 'e']);
    expect(breakers.stats()).toMatchObject({ size: 3, maxBreakers: 3, created: 5, evicted: 2 });
    expect(first).toBe(breakers.get('a'));
    for (let i = 0; i < 1000; i++) breakers.get(`k${i}`);
    expect(breakers.size).toBe(3);
  });

  it('eviction prefers a closed breaker over an open one', async () => {
    const breakers = createBreakerRegistry({
      maxBreakers: 2,
      defaults: { failureThreshold: 1, clock: new ManualClock() },
    });
    const open = breakers.get('open');
    await settle(open.execute(boom()));
    const closed = breakers.get('closed');
    breakers.get('new');
    expect(breakers.keys()).toEqual(['open', 'new']);
    expect(isPerfClosedError((await settle(closed.execute(ok(1)))).error)).toBe(true);
    expect(breakers.get('open')).toBe(open);
  });

  it('optionsFor overrides defaults per key', async () => {
    const breakers = createBreakerRegistry({
      defaults: { failureThreshold: 5, clock: new ManualClock() },
      optionsFor: (key) => (key === 'fragile' ? { failureThreshold: 1 } : undefined),
    });
    await settle(breakers.get('fragile').execute(boom()));
    await settle(breakers.get('sturdy').execute(boom()));
    expect(breakers.get('fragile').state).toBe('open');
    expect(breakers.get('sturdy').state).toBe('closed');
  });

  it('refuses a cache fallback in shared defaults (one key for every upstream) and takes it per key', async () => {
    const store = new Map<string, unknown>();
    const cache = {
      get: async (key: string) => store.get(key),
      set: async (key: string, value: unknown) => {
        store.set(key, value);
      },
    } as unknown as Cache;
    let error: unknown;
    try {
      createBreakerRegistry({ defaults: { fallback: { cache, key: 'last-good', store: true } } });
    } catch (e) {
      error = e;
    }
    expect(isPerfConfigError(error)).toBe(true);
    expect((error as { field: string }).field).toBe('defaults.fallback');

    const breakers = createBreakerRegistry({
      defaults: { failureThreshold: 5, clock: new ManualClock() },
      optionsFor: (key) => ({ fallback: { cache, key: `last-good:${key}`, store: true } }),
    });
    await breakers.get('a').execute(ok('from a'));
    await expect(breakers.get('b').execute(boom())).rejects.toThrow(); // b has no value of its own
    await expect(breakers.get('a').execute(boom())).resolves.toBe('from a');
  });

  it('refuses bad keys with PerfKeyError', () => {
    const breakers = createBreakerRegistry();
    for (const key of ['', 'x'.repeat(513), 42 as unknown as string]) {
      try {
        breakers.get(key);
        expect.unreachable();
      } catch (error) {
        expect(isPerfKeyError(error)).toBe(true);
      }
    }
  });

  it('delete() and close() close breakers; a closed registry refuses new keys', async () => {
    const breakers = createBreakerRegistry({ defaults: { clock: new ManualClock() } });
    const a = breakers.get('a');
    expect(breakers.delete('a')).toBe(true);
    expect(breakers.delete('a')).toBe(false);
    expect(isPerfClosedError((await settle(a.execute(ok(1)))).error)).toBe(true);
    const b = breakers.get('b');
    breakers.close();
    expect(breakers.size).toBe(0);
    expect(isPerfClosedError((await settle(b.execute(ok(1)))).error)).toBe(true);
    expect(() => breakers.get('c')).toThrow(/closed/);
  });

  it('breakerStats() reports every breaker by key', async () => {
    const breakers = createBreakerRegistry({ defaults: { clock: new ManualClock() } });
    await breakers.get('x').execute(ok(1));
    expect(breakers.breakerStats().x).toMatchObject({ name: 'breakers:x', calls: 1, successes: 1 });
  });
});
