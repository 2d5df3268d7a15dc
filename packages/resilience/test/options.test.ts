import { isPerfConfigError, ManualClock, type PerfConfigError } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { createBreakerRegistry, createCircuitBreaker, createRedisBreakerSync } from '../src/index.js';

function configError(build: () => unknown): PerfConfigError {
  try {
    build();
  } catch (error) {
    expect(isPerfConfigError(error)).toBe(true);
    return error as PerfConfigError;
  }
  throw new Error('expected a PerfConfigError');
}

describe('bad options throw PerfConfigError naming the field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['options not an object', 42, 'options'],
    ['unknown key (typo)', { failureTreshold: 3 }, 'failureTreshold'],
    ['name empty', { name: '' }, 'name'],
    ['failureThreshold zero', { failureThreshold: 0 }, 'failureThreshold'],
    ['failureThreshold fractional', { failureThreshold: 1.5 }, 'failureThreshold'],
    ['halfOpenAfterMs negative', { halfOpenAfterMs: -1 }, 'halfOpenAfterMs'],
    ['halfOpenAfterMs infinite', { halfOpenAfterMs: Number.POSITIVE_INFINITY }, 'halfOpenAfterMs'],
    ['timeoutMs string', { timeoutMs: '100' }, 'timeoutMs'],
    // Node fires a longer timer after 1 ms: every call would time out and open the breaker.
    ['timeoutMs past the longest Node timer', { timeoutMs: 2_147_483_648 }, 'timeoutMs'],
    ['timeoutStrategy unknown', { timeoutStrategy: 'lazy' }, 'timeoutStrategy'],
    ['errorFilter not a function', { errorFilter: true }, 'errorFilter'],
    ['slowCallMs zero', { slowCallMs: 0 }, 'slowCallMs'],
    ['window type unknown', { window: { type: 'time' } }, 'window.type'],
    [
      'count window rate 1',
      { window: { type: 'count', size: 10, failureRateThreshold: 1 } },
      'window.failureRateThreshold',
    ],
    ['count window size 0', { window: { type: 'count', size: 0, failureRateThreshold: 0.5 } }, 'window.size'],
    [
      'count window minimumCalls > size',
      { window: { type: 'count', size: 5, failureRateThreshold: 0.5, minimumCalls: 6 } },
      'window.minimumCalls',
    ],
    [
      'sampling window duration',
      { window: { type: 'sampling', durationMs: -5, failureRateThreshold: 0.5 } },
      'window.durationMs',
    ],
    [
      'window with failureThreshold',
      { failureThreshold: 3, window: { type: 'count', size: 5, failureRateThreshold: 0.5 } },
      'failureThreshold',
    ],
    [
      'halfOpenBackoff below halfOpenAfterMs',
      { halfOpenAfterMs: 1000, halfOpenBackoff: { maxDelayMs: 10 } },
      'halfOpenBackoff.maxDelayMs',
    ],
    ['retry attempts zero', { retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    ['retry unknown key', { retry: { attempts: 3 } }, 'retry.attempts'],
    ['retry max < initial', { retry: { initialDelayMs: 100, maxDelayMs: 10 } }, 'retry.maxDelayMs'],
    ['retry maxDelayMs past the longest Node timer', { retry: { maxDelayMs: 3e9 } }, 'retry.maxDelayMs'],
    [
      'retry initialDelayMs past the longest Node timer',
      { retry: { initialDelayMs: 3e9, maxDelayMs: 3e9 } },
      'retry.initialDelayMs',
    ],
    ['bulkhead limit missing', { bulkhead: {} }, 'bulkhead.limit'],
    ['bulkhead queue negative', { bulkhead: { limit: 1, queue: -1 } }, 'bulkhead.queue'],
    ['fallback a number', { fallback: 3 }, 'fallback'],
    ['fallback value plus extra', { fallback: { value: 1, other: 2 } }, 'fallback.other'],
    ['fallback cache without get', { fallback: { cache: {}, key: 'k' } }, 'fallback.cache'],
    ['fallback cache empty key', { fallback: { cache: { get: async () => 1 }, key: '' } }, 'fallback.key'],
    [
      'fallback store without set',
      { fallback: { cache: { get: async () => 1 }, key: 'k', store: true } },
      'fallback.cache',
    ],
    ['clock without timers', { clock: { now: () => 0 } }, 'clock'],
    ['sync without attach', { sync: {} }, 'sync'],
    ['initialState not an object', { initialState: 'open' }, 'initialState'],
  ];

  it.each(cases)('%s', (_label, options, field) => {
    const error = configError(() => createCircuitBreaker(options as never));
    expect(error.field).toBe(field);
    expect(error.message).toContain('createCircuitBreaker');
  });

  it('a bad per-call fallback is refused when it is needed', async () => {
    const breaker = createCircuitBreaker({ clock: new ManualClock() });
    await expect(
      breaker.execute(
        async () => {
          throw new Error('x');
        },
        { fallback: 5 as never },
      ),
    ).rejects.toMatchObject({ code: 'ERR_PERF_CONFIG', field: 'fallback' });
  });

  it('registry options and defaults are checked up front', () => {
    expect(configError(() => createBreakerRegistry({ maxBreakers: 0 })).field).toBe('maxBreakers');
    expect(configError(() => createBreakerRegistry({ defaults: { timeoutMs: -1 } })).field).toBe('timeoutMs');
    expect(configError(() => createBreakerRegistry({ defaults: { name: 'x' } as never })).field).toBe(
      'defaults.name',
    );
    expect(configError(() => createBreakerRegistry({ optionsFor: 'x' as never })).field).toBe('optionsFor');
  });

  it('Redis sync options are checked', () => {
    expect(configError(() => createRedisBreakerSync({ redis: {} as never })).field).toBe('redis');
    const redis = { eval: async () => 1, duplicate: () => ({}) as never };
    expect(configError(() => createRedisBreakerSync({ redis, channel: '' })).field).toBe('channel');
  });
});

describe('registry sync option', () => {
  it('refuses a sync without attach()', () => {
    expect(configError(() => createBreakerRegistry({ sync: {} as never })).field).toBe('sync');
  });
});

describe('execute arguments', () => {
  it('refuses a non-function fn or a non-signal, without counting it against the breaker', async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 1, clock: new ManualClock() });
    await expect(breaker.execute('nope' as never)).rejects.toMatchObject({
      code: 'ERR_PERF_CONFIG',
      field: 'fn',
    });
    await expect(breaker.execute(async () => 1, { signal: {} as never })).rejects.toMatchObject({
      code: 'ERR_PERF_CONFIG',
      field: 'options.signal',
    });
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ calls: 0, failures: 0 });
  });
});
