/**
 * Cascade prevention against a real upstream: a local HTTP server on 127.0.0.1 that fails on
 * command. The breaker must keep traffic away from it while it is down, answer callers fast
 * (or from a fallback), and close again on its own once it recovers.
 */
import { isBrokenCircuitError, ManualClock } from '@perf/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../../src/index.js';
import { type FlakyUpstream, getJson, HttpError, startFlakyUpstream } from '../support/flaky-upstream.js';
import { settle } from '../support/helpers.js';

let upstream: FlakyUpstream;

beforeAll(async () => {
  upstream = await startFlakyUpstream();
});
afterAll(async () => {
  await upstream.close();
});
beforeEach(() => {
  upstream.mode = 'ok';
  upstream.hits.ok = upstream.hits.fail = upstream.hits.hang = 0;
});

describe('cascade prevention with a real flaky HTTP upstream', () => {
  it('without a breaker every call hits the failing upstream (control)', async () => {
    upstream.mode = 'fail';
    const controller = new AbortController();
    for (let i = 0; i < 50; i++) await settle(getJson(upstream.url, controller.signal));
    expect(upstream.hits.fail).toBe(50);
  });

  it('with a breaker only failureThreshold calls reach it while it is down', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      name: 'http',
      failureThreshold: 5,
      halfOpenAfterMs: 30_000,
      clock,
    });
    expect(await breaker.execute((signal) => getJson(upstream.url, signal))).toEqual({
      id: 1,
      text: 'hello world',
    });
    upstream.mode = 'fail';
    const errors: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      const { error } = await settle(breaker.execute((signal) => getJson(upstream.url, signal)));
      errors.push(error);
    }
    expect(upstream.hits.fail).toBe(5);
    expect(errors.slice(0, 5).every((e) => e instanceof HttpError)).toBe(true);
    expect(errors.slice(5).every(isBrokenCircuitError)).toBe(true);
    expect(breaker.stats()).toMatchObject({ failures: 5, rejections: 195, state: 'open' });
  });

  it('recovers on its own: one probe after halfOpenAfterMs, then traffic flows again', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 10_000, clock });
    upstream.mode = 'fail';
    for (let i = 0; i < 10; i++) await settle(breaker.execute((signal) => getJson(upstream.url, signal)));
    expect(breaker.state).toBe('open');
    upstream.mode = 'ok';
    clock.advance(5_000);
    await settle(breaker.execute((signal) => getJson(upstream.url, signal)));
    expect(upstream.hits.ok).toBe(0); // still open: nothing reached the recovered upstream yet
    clock.advance(5_000);
    expect(await breaker.execute((signal) => getJson(upstream.url, signal))).toEqual({
      id: 1,
      text: 'hello world',
    });
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 10; i++) await breaker.execute((signal) => getJson(upstream.url, signal));
    expect(upstream.hits.ok).toBe(11);
  });

  it('a hanging upstream: timeouts open the breaker, later callers fail fast or get the fallback', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      failureThreshold: 3,
      timeoutMs: 100,
      halfOpenAfterMs: 60_000,
      fallback: (_error, info) => ({ fallback: info.reason }),
      clock,
    });
    upstream.mode = 'hang';
    const answers: unknown[] = [];
    for (let i = 0; i < 3; i++)
      answers.push(await breaker.execute((signal) => getJson(upstream.url, signal)));
    expect(answers).toEqual([{ fallback: 'timeout' }, { fallback: 'timeout' }, { fallback: 'timeout' }]);
    expect(breaker.state).toBe('open');
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      expect(await breaker.execute((signal) => getJson(upstream.url, signal))).toEqual({ fallback: 'open' });
    }
    // 100 rejected calls cost far less than one timeout (generous bound for a loaded machine)
    expect(performance.now() - started).toBeLessThan(100);
    expect(upstream.hits.hang).toBe(3);
    expect(breaker.stats()).toMatchObject({ timeouts: 3, rejections: 100, fallbacks: 103 });
  });

  it('concurrent callers during an outage: only the threshold reaches the upstream', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ failureThreshold: 5, halfOpenAfterMs: 60_000, clock });
    upstream.mode = 'fail';
    // first wave opens it; the following waves are rejected without touching the upstream
    await Promise.all(
      Array.from({ length: 5 }, () => settle(breaker.execute((s) => getJson(upstream.url, s)))),
    );
    const waves = await Promise.all(
      Array.from({ length: 100 }, () => settle(breaker.execute((s) => getJson(upstream.url, s)))),
    );
    expect(waves.every((r) => isBrokenCircuitError(r.error))).toBe(true);
    expect(upstream.hits.fail).toBe(5);
  });
});
