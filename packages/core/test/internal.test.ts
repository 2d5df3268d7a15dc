import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock, PerfConfigError, systemClock } from '../src/index.js';
import {
  CLOCK_MUST_BE,
  checkOptions,
  clampTimerDelay,
  elapsedMs,
  is,
  isClock,
  MAX_TIMER_DELAY_MS,
  startTimer,
  UNTIMED,
} from '../src/internal.js';

describe('the Clock check (one rule, one message)', () => {
  it('accepts the system clock, a ManualClock and any object with the three methods', () => {
    expect(isClock(systemClock)).toBe(true);
    expect(isClock(new ManualClock())).toBe(true);
    expect(isClock({ now: () => 0, setTimeout: () => ({}), clearTimeout: () => undefined })).toBe(true);
  });

  it('refuses anything missing a method, and non-objects', () => {
    expect(isClock({ now: () => 0 })).toBe(false);
    expect(isClock({ now: () => 0, setTimeout: () => ({}) })).toBe(false);
    expect(isClock(null)).toBe(false);
    expect(isClock(() => 0)).toBe(false);
  });

  it('is.clock names the field and says what a Clock is', () => {
    const run = () => checkOptions('Thing', { clock: { now: () => 0 } }, { clock: is.clock });
    expect(run).toThrow(PerfConfigError);
    expect(run).toThrow(`Thing: clock must be ${CLOCK_MUST_BE}`);
  });
});

describe('the timer-delay rule', () => {
  it('clamps computed delays to the longest Node timer and keeps shorter ones', () => {
    expect(clampTimerDelay(5)).toBe(5);
    expect(clampTimerDelay(MAX_TIMER_DELAY_MS)).toBe(MAX_TIMER_DELAY_MS);
    expect(clampTimerDelay(MAX_TIMER_DELAY_MS + 1)).toBe(MAX_TIMER_DELAY_MS);
    expect(clampTimerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_DELAY_MS);
  });

  it('systemClock does not fire an over-long timer after 1 ms (Node would)', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 3e9);
    await new Promise((resolve) => setTimeout(resolve, 30));
    systemClock.clearTimeout(handle);
    expect(fired).toBe(false);
  });
});

describe('observed-only timing', () => {
  it('reads no clock when the channel has no subscribers', () => {
    let reads = 0;
    const source = {
      now: () => {
        reads++;
        return 1000;
      },
    };
    expect(startTimer({ hasSubscribers: false }, source)).toBe(UNTIMED);
    expect(reads).toBe(0);
  });

  it('times on the given source when observed', () => {
    const clock = new ManualClock(5000);
    const started = startTimer({ hasSubscribers: true }, clock);
    expect(started).toBe(5000);
    clock.advance(42);
    expect(elapsedMs(started, clock)).toBe(42);
  });

  it('defaults to performance.now()', () => {
    const started = startTimer({ hasSubscribers: true });
    expect(started).toBeGreaterThanOrEqual(0);
    expect(elapsedMs(started)).toBeGreaterThanOrEqual(0);
  });
});

describe('@perf/core/internal as shipped', () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const probe = (type: 'module' | 'commonjs', load: string) =>
    execFileSync(process.execPath, [`--input-type=${type}`, '-e', load], { cwd, encoding: 'utf8' }).trim();

  it('loads through import and require, throwing the PerfConfigError the root exports', () => {
    const body = `
      let same = false;
      try { internal.checkOptions('T', { x: 1 }, {}); } catch (e) { same = e instanceof root.PerfConfigError; }
      console.log([typeof internal.checkOptions, typeof internal.describeValue, typeof internal.startTimer, same].join(','));`;
    const esm = probe(
      'module',
      `const root = await import('@perf/core'); const internal = await import('@perf/core/internal'); ${body}`,
    );
    const cjs = probe(
      'commonjs',
      `const root = require('@perf/core'); const internal = require('@perf/core/internal'); ${body}`,
    );
    expect(esm).toBe('function,function,function,true');
    expect(cjs).toBe('function,function,function,true');
  });
});
