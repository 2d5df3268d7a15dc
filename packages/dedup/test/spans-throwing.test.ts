/**
 * Instrumentation must never break the call: with a tracer (or context manager) that throws, every
 * caller still gets its outcome, nothing throws synchronously, no key is left behind, and `close()`
 * neither rejects nor leaves an unhandled rejection.
 */
import {
  type Context,
  type ContextManager,
  context,
  ROOT_CONTEXT,
  type Span,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Deduplicator } from '../src/index.js';
import { deferred, flush, outcome } from './helpers.js';

const METHODS = [
  'startSpan',
  'isRecording',
  'setAttributes',
  'setAttribute',
  'setStatus',
  'recordException',
  'spanContext',
  'end',
  'context.with',
  'everything',
] as const;
type Broken = (typeof METHODS)[number];

let broken: Broken | undefined;
let ended = 0;
let withCalls = 0;

function fail(method: Broken): void {
  if (broken === method || broken === 'everything') throw new Error(`tracer: ${method} broke`);
}

function brokenSpan(): Span {
  const span: Span = {
    spanContext: () => {
      fail('spanContext');
      return { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 };
    },
    setAttribute: () => {
      fail('setAttribute');
      return span;
    },
    setAttributes: () => {
      fail('setAttributes');
      return span;
    },
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: () => {
      fail('setStatus');
      return span;
    },
    updateName: () => span,
    end: () => {
      fail('end');
      ended++;
    },
    isRecording: () => {
      fail('isRecording');
      return true;
    },
    recordException: () => fail('recordException'),
  };
  return span;
}

const tracer = {
  startSpan: () => {
    fail('startSpan');
    return brokenSpan();
  },
  startActiveSpan: () => {
    throw new Error('not used');
  },
} as unknown as Tracer;

class BrokenContextManager implements ContextManager {
  active(): Context {
    return ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    _ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    withCalls++;
    fail('context.with');
    return fn.apply(thisArg, args);
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable() {
    return this;
  }
  disable() {
    return this;
  }
}

describe('Deduplicator with a tracer that throws', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    trace.setGlobalTracerProvider({ getTracer: () => tracer });
    context.setGlobalContextManager(new BrokenContextManager());
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    trace.disable();
    context.disable();
  });
  beforeEach(() => {
    unhandled.length = 0;
  });
  afterEach(() => {
    broken = undefined;
  });

  for (const method of METHODS) {
    it(`${method} throwing: callers get their outcomes, close() settles the rest cleanly`, async () => {
      broken = method;
      const dedup = new Deduplicator({ name: `broken-${method}` });
      const gate = deferred<number>();
      const failing = deferred<number>();
      let runs = 0;
      const fn = () => {
        runs++;
        return gate.promise;
      };
      const calls: Array<() => Promise<unknown>> = [
        () => dedup.run('ok', fn), // plain leader
        () => dedup.run('ok', fn, { timeoutMs: 5_000 }), // follower with options (own span)
        () => dedup.run('ok', fn), // plain follower
        () => dedup.run('err', () => failing.promise, { timeoutMs: 5_000 }),
        () =>
          dedup.run('sync', () => {
            throw new Error('fn threw');
          }),
        () =>
          dedup.run(
            'hung',
            (signal) =>
              new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
          ),
      ];
      const settled = calls.map((call) => {
        let promise: Promise<unknown>;
        expect(() => {
          promise = call();
        }).not.toThrow();
        return outcome(promise!);
      });
      gate.resolve(7);
      failing.reject(new Error('upstream down'));
      await flush();
      expect(runs).toBe(1);
      expect(dedup.has('ok') || dedup.has('err') || dedup.has('sync')).toBe(false);
      expect(dedup.has('hung')).toBe(true);

      await expect(dedup.close()).resolves.toBeUndefined();
      const [a, b, c, d, e, f] = await Promise.all(settled);
      expect(a).toEqual({ ok: true, value: 7 });
      expect(b).toEqual({ ok: true, value: 7 });
      expect(c).toEqual({ ok: true, value: 7 });
      expect(d).toMatchObject({ ok: false, error: { message: 'upstream down' } });
      expect(e).toMatchObject({ ok: false, error: { message: 'fn threw' } });
      expect(f).toMatchObject({ ok: false, error: { code: 'ERR_PERF_CLOSED' } });
      expect(dedup.stats()).toMatchObject({ inFlight: 0, successes: 3, errors: 2, aborted: 1 });
      await flush();
      expect(unhandled).toEqual([]);
    });
  }

  it('runs fn exactly once when the context manager throws, and passes its own error through', async () => {
    const dedup = new Deduplicator();
    broken = 'context.with';
    withCalls = 0;
    let runs = 0;
    await expect(
      dedup.run('k', () => {
        runs++;
        return Promise.resolve('v');
      }),
    ).resolves.toBe('v');
    expect(withCalls).toBe(1);
    expect(runs).toBe(1);

    broken = undefined;
    runs = 0;
    const error = new Error('mine');
    await expect(
      dedup.run('k', () => {
        runs++;
        throw error;
      }),
    ).rejects.toBe(error);
    expect(runs).toBe(1);
    await dedup.close();
  });

  it('still ends spans whose attributes throw', async () => {
    const dedup = new Deduplicator();
    broken = 'setAttribute';
    ended = 0;
    await dedup.run('k', async () => 1);
    expect(ended).toBe(1);
    await dedup.close();
  });
});
