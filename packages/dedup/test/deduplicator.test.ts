import { getEventListeners } from 'node:events';
import {
  isPerfAbortError,
  isPerfClosedError,
  isPerfConfigError,
  isPerfSerializationError,
  isPerfTimeoutError,
  ManualClock,
} from '@perf/core';
import { describe, expect, it } from 'vitest';
import { type DedupCallInfo, Deduplicator } from '../src/index.js';
import { deferred, flush, outcome } from './helpers.js';

describe('Deduplicator options', () => {
  it('has safe defaults', () => {
    const dedup = new Deduplicator();
    expect(dedup.name).toBe('default');
    expect(dedup.stats()).toEqual({
      total: 0,
      leaders: 0,
      followers: 0,
      inFlight: 0,
      successes: 0,
      timeouts: 0,
      errors: 0,
      aborted: 0,
      bypassed: 0,
      abandoned: 0,
      dedupRatio: 0,
    });
  });

  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: Number.NaN }, 'timeoutMs'],
    [{ timeoutMs: '10' }, 'timeoutMs'],
    [{ maxInFlight: 0 }, 'maxInFlight'],
    [{ maxInFlight: 1.5 }, 'maxInFlight'],
    [{ share: 'copy' }, 'share'],
    [{ name: '' }, 'name'],
    [{ clock: { now: () => 0 } }, 'clock'],
    [{ spans: 'yes' }, 'spans'],
    [{ timoutMs: 10 }, 'timoutMs'],
  ])('refuses %j naming the field', (options, field) => {
    let caught: unknown;
    try {
      new Deduplicator(options as never);
    } catch (error) {
      caught = error;
    }
    expect(isPerfConfigError(caught)).toBe(true);
    expect((caught as { field: string }).field).toBe(field);
  });

  it('refuses options that are not an object', () => {
    expect(() => new Deduplicator(42 as never)).toThrow(/options must be a plain object/);
  });

  it('rejects bad run() arguments with a PerfConfigError and runs nothing', async () => {
    const dedup = new Deduplicator();
    let runs = 0;
    const fn = async () => {
      runs++;
      return 1;
    };
    const bad = [
      dedup.run(42 as never, fn),
      dedup.run('k', 'not a function' as never),
      dedup.run('k', fn, { timeoutMs: -1 }),
      dedup.run('k', fn, { signal: {} as never }),
      dedup.run('k', fn, { tiemoutMs: 5 } as never),
      dedup.run('k', fn, null as never),
    ];
    const results = await Promise.all(bad.map(outcome));
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(isPerfConfigError((r as { error: unknown }).error)).toBe(true);
    }
    expect((results[0] as { error: { field: string } }).error.field).toBe('key');
    expect((results[1] as { error: { field: string } }).error.field).toBe('fn');
    expect((results[2] as { error: { field: string } }).error.field).toBe('timeoutMs');
    expect(runs).toBe(0);
    expect(dedup.stats().total).toBe(0);
  });
});

describe('Deduplicator.run coalescing', () => {
  it('runs fn once for concurrent callers of one key; everyone gets the same value', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<{ id: number }>();
    let runs = 0;
    const fn = () => {
      runs++;
      return gate.promise;
    };
    const calls = [dedup.run('a', fn), dedup.run('a', fn), dedup.run('a', fn)];
    expect(dedup.stats().inFlight).toBe(1);
    expect(dedup.has('a')).toBe(true);
    const value = { id: 7 };
    gate.resolve(value);
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    for (const r of results) expect(r).toBe(value); // shared by reference by default
    expect(dedup.stats()).toMatchObject({
      total: 3,
      leaders: 1,
      followers: 2,
      inFlight: 0,
      successes: 3,
      dedupRatio: 2 / 3,
    });
  });

  it('keeps different keys apart', async () => {
    const dedup = new Deduplicator();
    const [a, b] = await Promise.all([dedup.run('a', async () => 'A'), dedup.run('b', async () => 'B')]);
    expect([a, b]).toEqual(['A', 'B']);
    expect(dedup.stats().leaders).toBe(2);
  });

  it('frees the key when the call settles, so errors are never served to later callers', async () => {
    const dedup = new Deduplicator();
    let runs = 0;
    const first = await outcome(
      dedup.run('k', async () => {
        runs++;
        throw new Error('boom');
      }),
    );
    expect(first.ok).toBe(false);
    expect(dedup.has('k')).toBe(false);
    const second = await dedup.run('k', async () => {
      runs++;
      return 'fresh';
    });
    expect(second).toBe('fresh');
    expect(runs).toBe(2);
  });

  it('gives every caller the rejection of a leader that rejects', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<string>();
    const calls = [dedup.run('k', () => gate.promise), dedup.run('k', () => gate.promise)];
    const error = new Error('upstream down');
    gate.reject(error);
    const results = await Promise.all(calls.map(outcome));
    expect(results).toEqual([
      { ok: false, error },
      { ok: false, error },
    ]);
    expect(dedup.stats()).toMatchObject({ errors: 2, inFlight: 0 });
  });

  it('turns a leader that throws synchronously into a rejection and frees the key', async () => {
    const dedup = new Deduplicator();
    const error = new TypeError('sync');
    const result = await outcome(
      dedup.run('k', () => {
        throw error;
      }),
    );
    expect(result).toEqual({ ok: false, error });
    expect(dedup.stats()).toMatchObject({ inFlight: 0, errors: 1 });
  });

  it('takes a non-promise return value as the value, the way await does', async () => {
    const dedup = new Deduplicator();
    const value = await dedup.run('k', (() => 42) as never);
    expect(value).toBe(42);
    const nothing = await dedup.run('k', (() => undefined) as never);
    expect(nothing).toBeUndefined();
    const fromThenable = await dedup.run('k', (() => ({
      // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose
      then: (resolve: (v: string) => void) => resolve('thenable'),
    })) as never);
    expect(fromThenable).toBe('thenable');
    expect(dedup.stats()).toMatchObject({ inFlight: 0, successes: 3 });
  });

  it('passes a real signal to fn that declares a parameter, and a never-aborting one otherwise', async () => {
    const dedup = new Deduplicator();
    let seen: AbortSignal | undefined;
    await dedup.run('a', async (signal) => {
      seen = signal;
    });
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen?.aborted).toBe(false);
    let withoutParam: AbortSignal | undefined;
    await dedup.run('b', async function (this: unknown) {
      // biome-ignore lint/complexity/noArguments: inspecting what a parameterless fn is passed
      withoutParam = arguments[0] as AbortSignal;
    });
    expect(withoutParam).toBeInstanceOf(AbortSignal);
    expect(withoutParam?.aborted).toBe(false);
  });

  it('keeps no abort listeners on the shared signal it passes to fn with length 0 (rest, default, arguments)', async () => {
    // `(...args)`, `(signal = x)` and `arguments` all have fn.length 0, yet can reach the signal they
    // are passed: a listener each added to a shared signal would pile up forever.
    const dedup = new Deduplicator();
    const seen = new Set<AbortSignal>();
    const fns: Array<() => Promise<number>> = [
      async (...args: unknown[]) => {
        const signal = args[0] as AbortSignal;
        seen.add(signal);
        signal.addEventListener('abort', () => {});
        return 1;
      },
      async (signal: AbortSignal = AbortSignal.timeout(60_000)) => {
        seen.add(signal);
        signal.onabort = () => {};
        signal.addEventListener('abort', () => {}, { once: true });
        return 2;
      },
      async function (this: unknown) {
        // biome-ignore lint/complexity/noArguments: a fn reaching its signal through `arguments`
        const signal = arguments[0] as AbortSignal;
        seen.add(signal);
        signal.addEventListener('abort', () => {});
        return 3;
      },
    ];
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 50; i++) {
        for (const [n, fn] of fns.entries()) expect(await dedup.run(`k${n}`, fn)).toBe(n + 1);
      }
      await flush();
    } finally {
      process.off('warning', onWarning);
    }
    expect(seen.size).toBe(1); // one shared signal, never aborted
    const [shared] = [...seen];
    expect(shared).toBeInstanceOf(AbortSignal);
    expect(shared?.aborted).toBe(false);
    expect(getEventListeners(shared!, 'abort')).toHaveLength(0);
    expect(shared?.onabort).toBe(null);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    // Still usable as a signal: composed signals and fetch-style listeners work.
    expect(AbortSignal.any([shared!]).aborted).toBe(false);
    expect(() => shared?.throwIfAborted()).not.toThrow();
  });

  it('coalesces 10,000 concurrent identical calls into one run', async () => {
    const dedup = new Deduplicator();
    let runs = 0;
    const gate = deferred<string>();
    const calls: Promise<string>[] = [];
    for (let i = 0; i < 10_000; i++) {
      calls.push(
        dedup.run('hot', () => {
          runs++;
          return gate.promise;
        }),
      );
    }
    gate.resolve('v');
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(new Set(results)).toEqual(new Set(['v']));
    expect(dedup.stats()).toMatchObject({ total: 10_000, leaders: 1, followers: 9_999, inFlight: 0 });
  });

  it('churns 10,000 distinct keys and leaves nothing behind', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock, maxInFlight: 20_000 });
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 10_000; i++) calls.push(dedup.run(`k${i}`, async () => i));
    expect(dedup.stats().inFlight).toBe(10_000);
    const results = await Promise.all(calls);
    expect(results[9_999]).toBe(9_999);
    expect(dedup.stats()).toMatchObject({ inFlight: 0, leaders: 10_000 });
    // One sweeper timer at most, and none after close().
    expect(clock.pendingTimers).toBeLessThanOrEqual(1);
    await dedup.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Deduplicator timeouts', () => {
  it("bounds one caller's wait with its timeoutMs; the others keep waiting", async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock });
    const gate = deferred<string>();
    let signal: AbortSignal | undefined;
    const leader = dedup.run('k', (s) => {
      signal = s;
      return gate.promise;
    });
    const impatient = outcome(dedup.run('k', () => gate.promise, { timeoutMs: 100 }));
    clock.advance(100);
    const timedOut = await impatient;
    expect(timedOut.ok).toBe(false);
    const error = (timedOut as { error: unknown }).error;
    expect(isPerfTimeoutError(error)).toBe(true);
    expect((error as { timeoutMs: number }).timeoutMs).toBe(100);
    expect(signal?.aborted).toBe(false);
    expect(dedup.has('k')).toBe(true);
    gate.resolve('late but fine');
    await expect(leader).resolves.toBe('late but fine');
    expect(dedup.stats()).toMatchObject({ timeouts: 1, successes: 1, inFlight: 0 });
    expect(clock.pendingTimers).toBeLessThanOrEqual(1);
  });

  it('a caller whose wait timed out does not abort the operation even when it was the last one', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock });
    const gate = deferred<string>();
    let signal: AbortSignal | undefined;
    const only = outcome(
      dedup.run(
        'k',
        (s) => {
          signal = s;
          return gate.promise;
        },
        { timeoutMs: 50 },
      ),
    );
    clock.advance(50);
    expect(isPerfTimeoutError(((await only) as { error: unknown }).error)).toBe(true);
    expect(signal?.aborted).toBe(false);
    // A later caller can still join the running operation.
    const joiner = dedup.run('k', () => Promise.resolve('other'));
    gate.resolve('shared');
    await expect(joiner).resolves.toBe('shared');
  });

  it('abandons a hung operation after the in-flight limit: callers reject, fn is aborted, the key is free', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock, timeoutMs: 1000 });
    let signal: AbortSignal | undefined;
    const hung = deferred<string>();
    const calls = [
      dedup.run('k', (s) => {
        signal = s;
        return hung.promise;
      }),
      dedup.run('k', () => hung.promise),
    ].map(outcome);
    clock.advance(999);
    expect(dedup.has('k')).toBe(true);
    clock.advance(1);
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(isPerfTimeoutError((r as { error: unknown }).error)).toBe(true);
    }
    expect(signal?.aborted).toBe(true);
    expect(isPerfTimeoutError(signal?.reason)).toBe(true);
    expect(dedup.has('k')).toBe(false);
    expect(dedup.stats()).toMatchObject({ abandoned: 1, timeouts: 2, inFlight: 0 });

    // A fresh call runs fn again; the hung one's late result is dropped.
    const fresh = dedup.run('k', async () => 'fresh');
    hung.resolve('late');
    await expect(fresh).resolves.toBe('fresh');
    await flush();
    expect(dedup.stats().successes).toBe(1);
    expect(clock.pendingTimers).toBeLessThanOrEqual(1);
  });

  it('honours bounds longer than a Node timer can express (no early 1 ms firing)', async () => {
    const dedup = new Deduplicator({ timeoutMs: 1e12 });
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('on time'), 30));
    await expect(dedup.run('k', slow, { timeoutMs: 1e12 })).resolves.toBe('on time');
    expect(dedup.stats()).toMatchObject({ timeouts: 0, abandoned: 0 });
    await dedup.close();
  });

  it('sweeps only operations past the limit, oldest first, and re-arms for the next', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock, timeoutMs: 100 });
    const never = () => new Promise<never>(() => {});
    const a = outcome(dedup.run('a', never));
    clock.advance(60);
    const b = outcome(dedup.run('b', never));
    clock.advance(40); // a is due
    expect(dedup.has('a')).toBe(false);
    expect(dedup.has('b')).toBe(true);
    expect(isPerfTimeoutError(((await a) as { error: unknown }).error)).toBe(true);
    clock.advance(60); // b is due
    expect(dedup.has('b')).toBe(false);
    expect(isPerfTimeoutError(((await b) as { error: unknown }).error)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Deduplicator cancellation (reference counting)', () => {
  it('rejects a caller whose signal already aborted, without running or joining anything', async () => {
    const dedup = new Deduplicator();
    let runs = 0;
    const reason = new Error('gone');
    const result = await outcome(
      dedup.run(
        'k',
        async () => {
          runs++;
        },
        { signal: AbortSignal.abort(reason) },
      ),
    );
    expect(result.ok).toBe(false);
    const error = (result as { error: { cause: unknown } }).error;
    expect(isPerfAbortError(error)).toBe(true);
    expect(error.cause).toBe(reason);
    expect(runs).toBe(0);
    expect(dedup.stats()).toMatchObject({ aborted: 1, inFlight: 0, leaders: 0 });
  });

  it('lets one caller leave alone; the operation is aborted only when every caller has aborted', async () => {
    const dedup = new Deduplicator();
    const a = new AbortController();
    const b = new AbortController();
    let signal: AbortSignal | undefined;
    const fn = (s: AbortSignal) => {
      signal = s;
      return new Promise<string>((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    };
    const first = outcome(dedup.run('k', fn, { signal: a.signal }));
    const second = outcome(dedup.run('k', fn, { signal: b.signal }));
    a.abort();
    expect(isPerfAbortError(((await first) as { error: unknown }).error)).toBe(true);
    expect(signal?.aborted).toBe(false);
    expect(dedup.has('k')).toBe(true);
    b.abort();
    expect(isPerfAbortError(((await second) as { error: unknown }).error)).toBe(true);
    expect(signal?.aborted).toBe(true);
    expect(dedup.has('k')).toBe(false);
    await flush();
    expect(dedup.stats()).toMatchObject({ aborted: 2, inFlight: 0, errors: 0 });
  });

  it('never aborts the operation while a caller without a signal still waits', async () => {
    const dedup = new Deduplicator();
    const gate = deferred<string>();
    let signal: AbortSignal | undefined;
    const plain = dedup.run('k', (s) => {
      signal = s;
      return gate.promise;
    });
    const controller = new AbortController();
    const leaving = outcome(dedup.run('k', () => gate.promise, { signal: controller.signal }));
    controller.abort();
    await leaving;
    expect(signal?.aborted).toBe(false);
    gate.resolve('done');
    await expect(plain).resolves.toBe('done');
  });

  it('ignores an abort after the call settled and removes its listener', async () => {
    const dedup = new Deduplicator();
    const controller = new AbortController();
    const value = await dedup.run('k', async () => 'ok', { signal: controller.signal });
    expect(value).toBe('ok');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();
    await flush();
    expect(dedup.stats()).toMatchObject({ aborted: 0, successes: 1 });
  });

  it('leaves no listeners on a long-lived signal used for many calls', async () => {
    const dedup = new Deduplicator();
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) {
      await dedup.run(`k${i % 3}`, async () => i, { signal: controller.signal, timeoutMs: 10_000 });
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('puts one listener on a signal shared by many waiting calls, and none once they settle', async () => {
    const dedup = new Deduplicator();
    const shared = new AbortController();
    const gate = deferred<string>();
    const calls = Array.from({ length: 1000 }, (_, i) =>
      dedup.run(`k${i % 10}`, () => gate.promise, { signal: shared.signal }),
    );
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    gate.resolve('v');
    await Promise.all(calls);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);

    // And aborting it reaches every waiting call.
    const pending = Array.from({ length: 50 }, () =>
      outcome(dedup.run('hung', () => new Promise<never>(() => {}), { signal: shared.signal })),
    );
    shared.abort();
    for (const r of await Promise.all(pending))
      expect(isPerfAbortError((r as { error: unknown }).error)).toBe(true);
    expect(dedup.has('hung')).toBe(false);
  });

  it('is not confused by an options object reused with another signal while a call waits', async () => {
    const dedup = new Deduplicator();
    const first = new AbortController();
    const options: { signal: AbortSignal } = { signal: first.signal };
    const gate = deferred<string>();
    const call = dedup.run('k', () => gate.promise, options);
    options.signal = new AbortController().signal; // the caller reuses its options object
    gate.resolve('v');
    await expect(call).resolves.toBe('v');
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(0);
  });

  it('frees the key after everyone aborted, so the next caller starts a fresh operation', async () => {
    const dedup = new Deduplicator();
    const controller = new AbortController();
    const first = outcome(
      dedup.run('k', (s) => new Promise((r) => s.addEventListener('abort', r)), {
        signal: controller.signal,
      }),
    );
    controller.abort();
    await first;
    await expect(dedup.run('k', async () => 'again')).resolves.toBe('again');
  });
});

describe('Deduplicator in-flight bound (maxInFlight)', () => {
  it('runs new keys without deduplication past the bound, and counts them', async () => {
    const dedup = new Deduplicator({ maxInFlight: 2 });
    const gate = deferred<string>();
    let runs = 0;
    const fn = () => {
      runs++;
      return gate.promise;
    };
    const calls = [
      dedup.run('a', fn),
      dedup.run('b', fn),
      dedup.run('c', fn), // table full: bypass
      dedup.run('c', fn), // still full: bypass again (c is not tracked)
      dedup.run('a', fn), // joins a
    ];
    expect(runs).toBe(4);
    expect(dedup.stats()).toMatchObject({ inFlight: 2, bypassed: 2, leaders: 2, followers: 1 });
    gate.resolve('v');
    expect(await Promise.all(calls)).toEqual(['v', 'v', 'v', 'v', 'v']);
    expect(dedup.stats().inFlight).toBe(0);
  });

  it("applies a bypassed caller's own timeout and signal to its operation", async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ maxInFlight: 1, clock });
    const hold = dedup.run('a', () => new Promise<never>(() => {}));
    let signal: AbortSignal | undefined;
    const bypassed = outcome(
      dedup.run(
        'b',
        (s) => {
          signal = s;
          return new Promise<never>(() => {});
        },
        { signal: new AbortController().signal, timeoutMs: 10 },
      ),
    );
    clock.advance(10);
    expect(isPerfTimeoutError(((await bypassed) as { error: unknown }).error)).toBe(true);
    expect(signal?.aborted).toBe(false); // a timeout leaves the operation running
    await dedup.close();
    await expect(hold).rejects.toSatisfy(isPerfClosedError);
  });
});

describe('Deduplicator sharing modes', () => {
  it("share: 'clone' gives each follower its own deep copy, taken when the value arrived", async () => {
    const dedup = new Deduplicator({ share: 'clone' });
    const gate = deferred<{ list: number[] }>();
    const leader = dedup.run('k', () => gate.promise);
    const f1 = dedup.run('k', () => gate.promise);
    const f2 = dedup.run('k', () => gate.promise);
    const original = { list: [1, 2] };
    gate.resolve(original);
    const mine = await leader;
    expect(mine).toBe(original);
    mine.list.push(99); // the leader mutates its copy before followers look
    const [a, b] = await Promise.all([f1, f2]);
    expect(a).toEqual({ list: [1, 2] });
    expect(b).toEqual({ list: [1, 2] });
    expect(a).not.toBe(b);
    a.list.push(3);
    expect(b.list).toEqual([1, 2]);
  });

  it("share: 'clone' rejects followers with PerfSerializationError when the value cannot be cloned", async () => {
    const dedup = new Deduplicator({ share: 'clone' });
    const gate = deferred<{ fn: () => void }>();
    const leader = dedup.run('k', () => gate.promise);
    const follower = outcome(dedup.run('k', () => gate.promise));
    const value = { fn: () => {} };
    gate.resolve(value);
    await expect(leader).resolves.toBe(value);
    const r = await follower;
    expect(isPerfSerializationError((r as { error: unknown }).error)).toBe(true);
    expect(dedup.stats()).toMatchObject({ successes: 1, errors: 1 });
  });

  it("share: 'freeze' freezes the shared value deeply", async () => {
    const dedup = new Deduplicator({ share: 'freeze' });
    const gate = deferred<{ nested: { list: number[] }; bytes: Uint8Array }>();
    const calls = [dedup.run('k', () => gate.promise), dedup.run('k', () => gate.promise)];
    gate.resolve({ nested: { list: [1] }, bytes: new Uint8Array([1, 2]) });
    const [a, b] = await Promise.all(calls);
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a?.nested)).toBe(true);
    expect(Object.isFrozen(a?.nested.list)).toBe(true);
    expect(() => a?.nested.list.push(2)).toThrow(TypeError);
  });
});

describe('Deduplicator correlation', () => {
  it('tells each caller whether it led or joined, whom it joined and how long it waited', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock });
    const gate = deferred<string>();
    const infos: DedupCallInfo[] = [];
    const leader = dedup.runDetailed('k', () => gate.promise);
    clock.advance(30);
    const follower = dedup.run('k', () => gate.promise, { onSettle: (info) => infos.push(info) });
    clock.advance(20);
    gate.resolve('v');
    const detailed = await leader;
    await follower;
    expect(detailed.value).toBe('v');
    expect(detailed.info).toMatchObject({ key: 'k', role: 'leader', outcome: 'success', waitedMs: 50 });
    expect(detailed.info.leaderCorrelationId).toBe(detailed.info.correlationId);
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({
      key: 'k',
      role: 'follower',
      bypassed: false,
      outcome: 'success',
      waitedMs: 20,
      leaderCorrelationId: detailed.info.correlationId,
    });
    expect(infos[0]?.correlationId).not.toBe(detailed.info.correlationId);
  });

  it('lists the operations in flight with their leader, age and waiting callers', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock });
    const gate = deferred<string>();
    const leader = dedup.runDetailed('a', () => gate.promise);
    clock.advance(40);
    const b = dedup.run('b', () => gate.promise);
    const joiner = dedup.run('a', () => gate.promise);
    clock.advance(10);
    const calls = dedup.inFlightCalls();
    expect(calls.map(({ key, ageMs, waiting }) => ({ key, ageMs, waiting }))).toEqual([
      { key: 'a', ageMs: 50, waiting: 2 },
      { key: 'b', ageMs: 10, waiting: 1 },
    ]);
    gate.resolve('v');
    const [detailed] = await Promise.all([leader, b, joiner]);
    expect(calls[0]?.leaderCorrelationId).toBe(detailed.info.correlationId);
    expect(dedup.inFlightCalls()).toEqual([]);
  });

  it('gives two instances distinct correlation ids', async () => {
    const ids = await Promise.all(
      [new Deduplicator(), new Deduplicator()].map((d) => d.runDetailed('k', async () => 1)),
    );
    expect(ids[0]?.info.correlationId).not.toBe(ids[1]?.info.correlationId);
  });

  it('reports timeouts and aborts through onSettle, and survives a throwing callback', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock });
    const infos: DedupCallInfo[] = [];
    const gate = deferred<string>();
    const leader = dedup.run('k', () => gate.promise, {
      onSettle: () => {
        throw new Error('callback bug');
      },
    });
    const t = outcome(dedup.run('k', () => gate.promise, { timeoutMs: 5, onSettle: (i) => infos.push(i) }));
    const c = new AbortController();
    const a = outcome(
      dedup.run('k', () => gate.promise, { signal: c.signal, onSettle: (i) => infos.push(i) }),
    );
    clock.advance(5);
    c.abort();
    await Promise.all([t, a]);
    gate.resolve('ok');
    await expect(leader).resolves.toBe('ok');
    expect(infos.map((i) => i.outcome)).toEqual(['timeout', 'aborted']);
  });
});

describe('Deduplicator.close', () => {
  it('cancels calls in flight, aborts their operations and refuses new calls', async () => {
    const clock = new ManualClock();
    const dedup = new Deduplicator({ clock });
    let signal: AbortSignal | undefined;
    const pending = outcome(
      dedup.run('k', (s) => {
        signal = s;
        return new Promise<never>(() => {});
      }),
    );
    const joined = outcome(dedup.run('k', () => Promise.resolve(1), { timeoutMs: 1000 }));
    await dedup.close();
    await dedup.close(); // idempotent
    for (const r of await Promise.all([pending, joined])) {
      expect(isPerfClosedError((r as { error: unknown }).error)).toBe(true);
    }
    expect(signal?.aborted).toBe(true);
    expect(dedup.stats().inFlight).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    await expect(dedup.run('k', async () => 1)).rejects.toSatisfy(isPerfClosedError);
  });
});
