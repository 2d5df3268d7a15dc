/**
 * Errors survive duplicate installs: a breaker from the CJS build and guards from the ESM build
 * (and the other way round) agree, because guards check a marker and the code, not `instanceof`.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Api = typeof import('../src/index.js');

describe('ESM and CJS builds side by side', async () => {
  const esm = (await import(new URL('../dist/index.js', import.meta.url).href)) as Api;
  const cjs = require('../dist/index.cjs') as Api;

  it('loads two distinct copies', () => {
    expect(esm.createCircuitBreaker).not.toBe(cjs.createCircuitBreaker);
  });

  it.each([
    ['cjs breaker, esm guards', cjs, esm],
    ['esm breaker, cjs guards', esm, cjs],
  ] as const)('%s', async (_label, from, guards) => {
    const breaker = from.createCircuitBreaker({ failureThreshold: 1, bulkhead: { limit: 1 } });
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const open = await breaker.execute(async () => 1).catch((e: unknown) => e);
    expect(guards.isBrokenCircuitError(open)).toBe(true);
    expect(guards.isIsolatedCircuitError(open)).toBe(false);
    breaker.reset();
    breaker.isolate();
    const isolated = await breaker.execute(async () => 1).catch((e: unknown) => e);
    expect(guards.isIsolatedCircuitError(isolated)).toBe(true);
    expect(guards.isBrokenCircuitError(isolated)).toBe(false);
    breaker.reset();
    let release!: () => void;
    const busy = breaker.execute(() => new Promise<void>((r) => (release = r)));
    const rejected = await breaker.execute(async () => 1).catch((e: unknown) => e);
    expect(guards.isBulkheadRejectedError(rejected)).toBe(true);
    release();
    await busy;
  });
});
