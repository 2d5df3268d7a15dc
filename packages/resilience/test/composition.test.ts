import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type Cache,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isPerfAbortError,
  isPerfClosedError,
  isPerfTimeoutError,
  ManualClock,
  PerfTimeoutError,
} from '@perf/core';
import { describe, expect, it, vi } from 'vitest';
import { createCircuitBreaker } from '../src/index.js';
import { boom, deferred, ok, recordEvents, settle, tick } from './support/helpers.js';

describe('errorFilter', () => {
  class NotFound extends Error {}

  it('failures the filter rejects never open the breaker, and are rethrown as is', async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 2,
      errorFilter: (e) => !(e instanceof NotFound),
      clock: new ManualClock(),
    });
    const notFound = new NotFound('404');
    for (let i = 0; i < 5; i++) {
      expect((await settle(breaker.execute(() => Promise.reject(notFound)))).error).toBe(notFound);
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ ignoredFailures: 5, failures: 0 });
    await settle(breaker.execute(boom()));
    await settle(breaker.execute(boom()));
    expect(breaker.state).toBe('open');
  });

  it('a throwing filter counts the failure rather than hiding it', async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      errorFilter: () => {
        throw new Error('bad filter');
      },
      clock: new ManualClock(),
    });
    await settle(breaker.execute(boom()));
    expect(breaker.state).toBe('open');
  });
});

describe('timeouts', () => {
  it('aggressive: rejects with PerfTimeoutError at the deadline, aborts fn signal, counts a failure', async () => {
    const breaker = createCircuitBreaker({ timeoutMs: 20, failureThreshold: 2, clock: new ManualClock() });
    let seen: AbortSignal | undefined;
    const { error } = await settle(
      breaker.execute((signal) => {
        seen = signal;
        return new Promise(() => undefined); // never settles
      }),
    );
    expect(error).toBeInstanceOf(PerfTimeoutError);
    expect((error as PerfTimeoutError).timeoutMs).toBe(20);
    expect(seen?.aborted).toBe(true);
    expect(breaker.stats()).toMatchObject({ timeouts: 1, failures: 1 });
    await settle(breaker.execute(() => new Promise(() => undefined)));
    expect(breaker.state).toBe('open');
  });

  it('cooperative: fn stops through its signal; the error becomes PerfTimeoutError with the cause', async () => {
    const breaker = createCircuitBreaker({
      timeoutMs: 20,
      timeoutStrategy: 'cooperative',
      clock: new ManualClock(),
    });
    const { error } = await settle(
      breaker.execute(
        (signal) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      ),
    );
    expect(isPerfTimeoutError(error)).toBe(true);
    expect((error as Error).cause).toEqual(new Error('stopped'));
    expect(breaker.stats().timeouts).toBe(1);
  });

  it('calls that finish in time are untouched', async () => {
    const breaker = createCircuitBreaker({ timeoutMs: 1000, clock: new ManualClock() });
    expect(await breaker.execute(ok('fast'))).toBe('fast');
    expect(breaker.stats()).toMatchObject({ successes: 1, timeouts: 0 });
  });
});

describe('slow calls', () => {
  it('successes slower than slowCallMs count as failures but still return their value', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ slowCallMs: 100, failureThreshold: 2, clock });
    const slow = async () => {
      clock.advance(150);
      return 'late';
    };
    expect(await breaker.execute(slow)).toBe('late');
    expect(breaker.state).toBe('closed');
    expect(await breaker.execute(ok('quick'))).toBe('quick'); // resets the consecutive count
    expect(await breaker.execute(slow)).toBe('late');
    expect(await breaker.execute(slow)).toBe('late');
    expect(breaker.state).toBe('open');
    expect(breaker.stats()).toMatchObject({ slowCalls: 3, failures: 3, successes: 1 });
    expect(breaker.stats().lastFailure?.message).toContain('slow call');
  });

  it('a slow probe re-opens the breaker', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      slowCallMs: 100,
      failureThreshold: 1,
      halfOpenAfterMs: 1000,
      clock,
    });
    await settle(breaker.execute(boom()));
    clock.advance(1000);
    await breaker.execute(async () => {
      clock.advance(100);
      return 1;
    });
    expect(breaker.state).toBe('open');
  });

  it('call events mark slow calls', async () => {
    const clock = new ManualClock();
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({ name: 'slow-ev', slowCallMs: 10, clock });
      await breaker.execute(async () => {
        clock.advance(12);
        return 1;
      });
      expect(rec.of('perf:breaker:call').filter((e) => e.name === 'slow-ev')).toEqual([
        { name: 'slow-ev', outcome: 'failure', slow: true, durationMs: 12 },
      ]);
    } finally {
      rec.stop();
    }
  });
});

describe('retry + breaker', () => {
  it('retries transient failures with backoff and succeeds', async () => {
    const breaker = createCircuitBreaker({
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
      clock: new ManualClock(),
    });
    let attempts = 0;
    const value = await breaker.execute(async () => {
      if (++attempts < 3) throw new Error('flaky');
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toBe(3);
    expect(breaker.stats()).toMatchObject({ retries: 2, failures: 2, successes: 1, calls: 1 });
  });

  it('never retries into an open circuit: the failure that opens it ends the retries', async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 2,
      retry: { maxAttempts: 10, initialDelayMs: 1, maxDelayMs: 2 },
      clock: new ManualClock(),
    });
    let attempts = 0;
    const { error } = await settle(
      breaker.execute(async () => {
        attempts++;
        throw new Error('down');
      }),
    );
    expect(attempts).toBe(2);
    expect((error as Error).message).toBe('down');
    expect(breaker.state).toBe('open');
    const again = await settle(breaker.execute(ok(1)));
    expect(isBrokenCircuitError(again.error)).toBe(true);
    expect(attempts).toBe(2);
  });

  it('does not retry failures the errorFilter ignores', async () => {
    const breaker = createCircuitBreaker({
      errorFilter: (e) => (e as Error).message !== 'invalid',
      retry: { maxAttempts: 5, initialDelayMs: 1 },
      clock: new ManualClock(),
    });
    let attempts = 0;
    await settle(
      breaker.execute(async () => {
        attempts++;
        throw new Error('invalid');
      }),
    );
    expect(attempts).toBe(1);
  });

  it('a caller that aborts during a backoff is released at once; no further attempt runs', async () => {
    const breaker = createCircuitBreaker({
      retry: { maxAttempts: 3, initialDelayMs: 60_000, maxDelayMs: 60_000 },
      clock: new ManualClock(),
    });
    const controller = new AbortController();
    let attempts = 0;
    const call = settle(
      breaker.execute(
        async () => {
          attempts++;
          throw new Error('flaky');
        },
        { signal: controller.signal },
      ),
    );
    await tick();
    expect(attempts).toBe(1); // now waiting in a long backoff
    const started = performance.now();
    controller.abort(new Error('client went away'));
    const { error } = await call;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(isPerfAbortError(error)).toBe(true);
    expect((error as Error).cause).toEqual(new Error('client went away'));
    expect(attempts).toBe(1);
    expect(breaker.stats()).toMatchObject({ failures: 1, retries: 1 });
    expect(breaker.stats().aborted).toBeGreaterThanOrEqual(1);
  });

  it('a caller released during a backoff is counted once, and the retry stops when the backoff ends', async () => {
    const breaker = createCircuitBreaker({
      retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 20 },
      clock: new ManualClock(),
    });
    const controller = new AbortController();
    let attempts = 0;
    const call = settle(
      breaker.execute(
        async () => {
          attempts++;
          throw new Error('flaky');
        },
        { signal: controller.signal },
      ),
    );
    await tick();
    controller.abort();
    expect(isPerfAbortError((await call).error)).toBe(true);
    await new Promise((r) => setTimeout(r, 100)); // the backoff ends; the retry loop gives up
    expect(attempts).toBe(1);
    expect(breaker.stats()).toMatchObject({ calls: 1, aborted: 1, failures: 1, retries: 1 });
  });

  it('a circuit opened by other calls during a backoff stops the retry with BrokenCircuitError', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      failureThreshold: 2,
      retry: { maxAttempts: 5, initialDelayMs: 30, maxDelayMs: 30 },
      clock,
    });
    let attempts = 0;
    const call = settle(
      breaker.execute(async () => {
        attempts++;
        throw new Error('first');
      }),
    );
    await tick();
    // meanwhile another caller's failure opens the breaker
    await settle(breaker.execute(boom('other')));
    const { error } = await call;
    expect(breaker.state).toBe('open');
    expect(attempts).toBe(1);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    // The one retry scheduled before the circuit opened met the open circuit and stopped there:
    // no further backoff-and-retry rounds against it.
    expect(breaker.stats()).toMatchObject({ retries: 1, rejections: 1 });
  });
});

describe('bulkhead', () => {
  it('rejects past limit + queue with BulkheadRejectedError; the breaker is not charged', async () => {
    const breaker = createCircuitBreaker({
      bulkhead: { limit: 2, queue: 1 },
      failureThreshold: 1,
      clock: new ManualClock(),
    });
    const gate = deferred<string>();
    const running = [0, 1, 2].map(() => breaker.execute(() => gate.promise));
    const { error } = await settle(breaker.execute(ok('x')));
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(isBulkheadRejectedError(error)).toBe(true);
    expect(breaker.state).toBe('closed');
    gate.resolve('done');
    expect(await Promise.all(running)).toEqual(['done', 'done', 'done']);
    expect(breaker.stats()).toMatchObject({
      bulkheadRejections: 1,
      rejections: 0,
      successes: 3,
      failures: 0,
    });
  });

  it('a queued caller that aborts is released at once and never runs', async () => {
    const breaker = createCircuitBreaker({ bulkhead: { limit: 1, queue: 1 }, clock: new ManualClock() });
    const gate = deferred<string>();
    const first = breaker.execute(() => gate.promise);
    const controller = new AbortController();
    const fn = vi.fn(ok('queued'));
    const queued = settle(breaker.execute(fn, { signal: controller.signal }));
    controller.abort();
    expect(isPerfAbortError((await queued).error)).toBe(true);
    gate.resolve('first');
    expect(await first).toBe('first');
    await tick();
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('abort', () => {
  it('an already aborted signal refuses the call without running fn', async () => {
    const breaker = createCircuitBreaker({ clock: new ManualClock() });
    const fn = vi.fn(ok(1));
    const { error } = await settle(breaker.execute(fn, { signal: AbortSignal.abort() }));
    expect(isPerfAbortError(error)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
  });

  it("aborting mid-call aborts fn's signal; the abort never counts against the breaker", async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 1, clock: new ManualClock() });
    const controller = new AbortController();
    const call = settle(
      breaker.execute(
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
          ),
        { signal: controller.signal },
      ),
    );
    controller.abort();
    const { error } = await call;
    expect((error as Error).name).toBe('AbortError');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ aborted: 1, failures: 0 });
  });

  it('with a timeout configured, a caller abort is an abort, not a timeout', async () => {
    const breaker = createCircuitBreaker({
      timeoutMs: 10_000,
      failureThreshold: 1,
      clock: new ManualClock(),
    });
    const controller = new AbortController();
    const call = settle(breaker.execute(() => new Promise(() => undefined), { signal: controller.signal }));
    await tick();
    controller.abort();
    const { error } = await call;
    expect(isPerfAbortError(error)).toBe(true);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ timeouts: 0, failures: 0 });
  });
});

describe('fallbacks', () => {
  it('a value answers failures and rejections', async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      fallback: { value: 'cached' },
      clock: new ManualClock(),
    });
    expect(await breaker.execute(boom())).toBe('cached');
    expect(breaker.state).toBe('open');
    expect(await breaker.execute(ok('fresh'))).toBe('cached'); // rejected while open
    expect(breaker.stats()).toMatchObject({ fallbacks: 2, rejections: 1, failures: 1 });
  });

  it('a function receives the error and the reason', async () => {
    const fallback = vi.fn(
      (error: unknown, info: { reason: string }) => `${info.reason}:${(error as Error).message}`,
    );
    const breaker = createCircuitBreaker({
      name: 'fb',
      failureThreshold: 1,
      fallback,
      clock: new ManualClock(),
    });
    expect(await breaker.execute(boom('x'))).toBe('failure:x');
    const answer = await breaker.execute(ok('y'));
    expect(answer).toMatch(/^open:Circuit breaker "fb" is open/);
    expect(fallback.mock.calls[1]?.[1]).toEqual({ name: 'fb', reason: 'open' });
  });

  it('ignored failures and aborts are not answered by the fallback', async () => {
    const breaker = createCircuitBreaker({
      errorFilter: () => false,
      fallback: { value: 'fb' },
      clock: new ManualClock(),
    });
    const { error } = await settle(breaker.execute(boom('404')));
    expect((error as Error).message).toBe('404');
    expect(
      isPerfAbortError((await settle(breaker.execute(ok(1), { signal: AbortSignal.abort() }))).error),
    ).toBe(true);
  });

  it('serves stale data from a Cache key, remembering good values with store: true', async () => {
    const store = new Map<string, unknown>();
    const cache = {
      get: async (key: string) => store.get(key),
      set: async (key: string, value: unknown) => {
        store.set(key, value);
      },
    };
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      fallback: { cache, key: 'user:1', store: true },
      clock: new ManualClock(),
    });
    expect((await settle(breaker.execute(boom('cold')))).error).toEqual(new Error('cold')); // nothing stale yet
    breaker.reset();
    expect(await breaker.execute(ok({ name: 'Ada' }))).toEqual({ name: 'Ada' });
    await tick();
    expect(store.get('user:1')).toEqual({ name: 'Ada' });
    expect(await breaker.execute(boom())).toEqual({ name: 'Ada' });
    expect(await breaker.execute(ok({ name: 'new' }))).toEqual({ name: 'Ada' }); // open: stale served
  });

  it('a cache that cannot be read is like an empty key: the original error is thrown, not the cache one', async () => {
    const rejecting = { get: (): Promise<unknown> => Promise.reject(new Error('cache down')) };
    const throwing = {
      get: (): Promise<unknown> => {
        throw new Error('cache down');
      },
    };
    for (const cache of [rejecting, throwing]) {
      const breaker = createCircuitBreaker({
        failureThreshold: 1,
        fallback: { cache, key: 'k' },
        clock: new ManualClock(),
      });
      expect((await settle(breaker.execute(boom('upstream')))).error).toEqual(new Error('upstream'));
      const { error } = await settle(breaker.execute(ok(1)));
      expect(isBrokenCircuitError(error)).toBe(true);
      expect(breaker.stats()).toMatchObject({ failures: 1, rejections: 1, fallbacks: 0 });
    }
  });

  it('a cache that fails to store never fails the call that succeeded', async () => {
    const throwing = {
      get: async () => undefined,
      set: (): Promise<void> => {
        throw new Error('serializer exploded'); // synchronously, before any promise
      },
    };
    const notAPromise = { get: async () => undefined, set: () => undefined as unknown as Promise<void> };
    for (const cache of [throwing, notAPromise]) {
      const breaker = createCircuitBreaker({
        fallback: { cache, key: 'k', store: true },
        clock: new ManualClock(),
      });
      expect(await breaker.execute(ok('fresh'))).toBe('fresh');
      expect(await breaker.execute(ok('fresh'), { fallback: { cache, key: 'k2', store: true } })).toBe(
        'fresh',
      );
      expect(breaker.stats()).toMatchObject({ successes: 2, failures: 0 });
    }
  });

  it('a per-call fallback overrides the breaker one (e.g. one cache key per call)', async () => {
    const store = new Map<string, unknown>([['k2', 'stale-2']]);
    const cache = { get: async (key: string) => store.get(key) };
    const breaker = createCircuitBreaker({ fallback: { value: 'default' }, clock: new ManualClock() });
    expect(await breaker.execute(boom(), { fallback: { cache, key: 'k2' } })).toBe('stale-2');
    expect(await breaker.execute(boom())).toBe('default');
  });

  it('publishes a fallback event after the outcome event', async () => {
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({
        name: 'fb-ev',
        fallback: { value: 0 },
        clock: new ManualClock(),
      });
      await breaker.execute(boom());
      expect(
        rec
          .of('perf:breaker:call')
          .filter((e) => e.name === 'fb-ev')
          .map((e) => e.outcome),
      ).toEqual(['failure', 'fallback']);
    } finally {
      rec.stop();
    }
  });
});

describe('call events and lifecycle', () => {
  it('publishes one call event per outcome while observed', async () => {
    const clock = new ManualClock();
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({
        name: 'calls',
        failureThreshold: 2,
        clock,
        errorFilter: (e) => (e as Error).message !== 'meh',
      });
      await breaker.execute(ok(1));
      await settle(breaker.execute(boom('meh')));
      await settle(breaker.execute(boom()));
      await settle(breaker.execute(boom()));
      await settle(breaker.execute(ok(1)));
      await settle(breaker.execute(ok(1), { signal: AbortSignal.abort() }));
      const outcomes = rec.of('perf:breaker:call').filter((e) => e.name === 'calls');
      expect(outcomes.map((e) => e.outcome)).toEqual([
        'success',
        'ignored-failure',
        'failure',
        'failure',
        'rejected',
        'aborted',
      ]);
      expect(outcomes[2]?.error).toEqual(new Error('boom'));
      expect(outcomes.every((e) => e.durationMs === 0)).toBe(true);
    } finally {
      rec.stop();
    }
  });

  it('close() refuses further calls with PerfClosedError', async () => {
    const breaker = createCircuitBreaker({ clock: new ManualClock() });
    breaker.close();
    breaker.close();
    expect(isPerfClosedError((await settle(breaker.execute(ok(1)))).error)).toBe(true);
    expect(() => breaker.isolate()).toThrow(/closed/);
  });
});

describe('fallback from a @perf/core Cache', () => {
  it('accepts any Cache implementation (type-level and at runtime)', async () => {
    const cache: Pick<Cache, 'get' | 'set'> = {
      get: async <T>(key: string) => (key === 'k' ? ('stale' as T) : undefined),
      set: async () => undefined,
    };
    const breaker = createCircuitBreaker({ fallback: { cache, key: 'k' }, clock: new ManualClock() });
    expect(await breaker.execute(boom())).toBe('stale');
  });
});

describe('signals under concurrency', () => {
  it('many concurrent calls with a timeout add no listener to a shared signal (no MaxListeners warning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const breaker = createCircuitBreaker({ timeoutMs: 5000, clock: new ManualClock() });
      const gate = deferred<void>();
      const calls = Array.from({ length: 50 }, () =>
        breaker.execute(async (signal) => {
          signal.addEventListener('abort', () => undefined, { once: true });
          await gate.promise;
          return 1;
        }),
      );
      await tick();
      gate.resolve();
      expect(await Promise.all(calls)).toHaveLength(50);
      await tick();
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('abort errors are the same on every path', () => {
  it('what fn throws on abort reaches the caller unchanged, with or without a timeout or fallback', async () => {
    const configs = [
      {},
      { timeoutMs: 10_000 },
      { fallback: { value: 'fb' } },
      { retry: { maxAttempts: 2, initialDelayMs: 1 } },
    ];
    for (const extra of configs) {
      const breaker = createCircuitBreaker({ ...extra, clock: new ManualClock() });
      const controller = new AbortController();
      const call = settle(
        breaker.execute(
          (signal) =>
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(new DOMException('gone', 'AbortError'))),
            ),
          { signal: controller.signal },
        ),
      );
      await tick();
      controller.abort();
      const { error } = await call;
      expect((error as Error).name, JSON.stringify(extra)).toBe('AbortError');
      expect(breaker.stats().failures).toBe(0);
    }
  });
});

describe('rejection errors', () => {
  it('are built without a stack trace and name the breaker', async () => {
    const breaker = createCircuitBreaker({ name: 'no-stack', failureThreshold: 1, clock: new ManualClock() });
    await settle(breaker.execute(boom()));
    const { error } = await settle(breaker.execute(ok(1)));
    expect(isBrokenCircuitError(error)).toBe(true);
    expect((error as Error).stack).not.toMatch(/\n\s+at /);
    expect((error as Error).message).toContain('"no-stack"');
  });

  it('timeout and bulkhead outcomes are published as call events', async () => {
    const rec = recordEvents();
    try {
      const breaker = createCircuitBreaker({
        name: 'outcomes',
        timeoutMs: 5,
        bulkhead: { limit: 1 },
        clock: new ManualClock(),
      });
      const hanging = settle(breaker.execute(() => new Promise(() => undefined)));
      await settle(breaker.execute(ok(1)));
      await hanging;
      expect(
        rec
          .of('perf:breaker:call')
          .filter((e) => e.name === 'outcomes')
          .map((e) => e.outcome),
      ).toEqual(['bulkhead-rejected', 'timeout']);
    } finally {
      rec.stop();
    }
  });
});
