import { createRequire } from 'node:module';
import { isPerfError, PerfConfigError } from '@perf/core';
import { describe, expect, it } from 'vitest';
import {
  isTracingAlreadySetUpError,
  isTracingPeerMissingError,
  TracingAlreadySetUpError,
  TracingErrorCodes,
  TracingPeerMissingError,
} from '../src/index.js';

describe('error classes and guards', () => {
  it('TracingPeerMissingError: code, packages, message, cause; only its own guard says yes', () => {
    const cause = new Error('Cannot find module');
    const e = new TracingPeerMissingError('setupTracing', ['@opentelemetry/core@2.12.1'], { cause });
    expect(e.code).toBe(TracingErrorCodes.peerMissing);
    expect(e.packages).toEqual(['@opentelemetry/core@2.12.1']);
    expect(e.message).toBe(
      '@perf/tracing: setupTracing needs @opentelemetry/core@2.12.1; install it: npm i @opentelemetry/core@2.12.1',
    );
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('TracingPeerMissingError');
    expect(isPerfError(e)).toBe(true);
    expect(isTracingPeerMissingError(e)).toBe(true);
    expect(isTracingAlreadySetUpError(e)).toBe(false);
  });

  it('TracingAlreadySetUpError: only its own guard says yes', () => {
    const e = new TracingAlreadySetUpError('twice');
    expect(e.code).toBe('ERR_PERF_TRACING_ALREADY_SET_UP');
    expect(isTracingAlreadySetUpError(e)).toBe(true);
    expect(isTracingPeerMissingError(e)).toBe(false);
  });

  it('guards refuse look-alikes and other errors', () => {
    for (const v of [
      new Error('x'),
      new PerfConfigError('f', 'must be', 1),
      { code: TracingErrorCodes.peerMissing },
      { code: TracingErrorCodes.alreadySetUp },
      null,
      undefined,
      'ERR_PERF_TRACING_PEER_MISSING',
    ]) {
      expect(isTracingPeerMissingError(v)).toBe(false);
      expect(isTracingAlreadySetUpError(v)).toBe(false);
    }
  });

  it('guards hold across the ESM and CJS builds (two copies of the classes)', () => {
    const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof import('../src/index.js');
    expect(cjs.TracingPeerMissingError).not.toBe(TracingPeerMissingError);
    expect(isTracingPeerMissingError(new cjs.TracingPeerMissingError('x', ['y@1']))).toBe(true);
    expect(cjs.isTracingAlreadySetUpError(new TracingAlreadySetUpError('x'))).toBe(true);
  });
});
