import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as core from '../src/index.js';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  describeValue,
  ErrorCodes,
  IsolatedCircuitError,
  PerfAbortError,
  PerfClosedError,
  PerfConfigError,
  PerfError,
  PerfKeyError,
  PerfSerializationError,
  PerfTimeoutError,
} from '../src/index.js';

const cases = [
  {
    make: () => new PerfConfigError('timeoutMs', 'must be a positive finite number', -1),
    guard: core.isPerfConfigError,
    code: ErrorCodes.config,
  },
  {
    make: () => new PerfTimeoutError('too slow', 5),
    guard: core.isPerfTimeoutError,
    code: ErrorCodes.timeout,
  },
  { make: () => new PerfAbortError(), guard: core.isPerfAbortError, code: ErrorCodes.aborted },
  { make: () => new PerfKeyError('cycle'), guard: core.isPerfKeyError, code: ErrorCodes.key },
  {
    make: () => new PerfSerializationError('nope'),
    guard: core.isPerfSerializationError,
    code: ErrorCodes.serialization,
  },
  { make: () => new BrokenCircuitError(), guard: core.isBrokenCircuitError, code: ErrorCodes.brokenCircuit },
  {
    make: () => new IsolatedCircuitError(),
    guard: core.isIsolatedCircuitError,
    code: ErrorCodes.isolatedCircuit,
  },
  {
    make: () => new BulkheadRejectedError(),
    guard: core.isBulkheadRejectedError,
    code: ErrorCodes.bulkheadRejected,
  },
  { make: () => new PerfClosedError(), guard: core.isPerfClosedError, code: ErrorCodes.closed },
] as const;

describe('error classes', () => {
  for (const { make, guard, code } of cases) {
    describe(make().name, () => {
      it(`has the stable code ${code} and is a PerfError and an Error`, () => {
        const error = make();
        expect(error.code).toBe(code);
        expect(error).toBeInstanceOf(PerfError);
        expect(error).toBeInstanceOf(Error);
        expect(core.isPerfError(error)).toBe(true);
        expect(error.name).toBe(error.constructor.name);
        expect(typeof error.stack).toBe('string');
      });

      it('its own guard accepts it and every other guard refuses it', () => {
        const error = make();
        expect(guard(error)).toBe(true);
        for (const other of cases) {
          if (other.guard !== guard) expect(other.guard(error)).toBe(false);
        }
      });
    });
  }

  it('guards refuse look-alikes, plain errors and non-objects', () => {
    const lookAlike = Object.assign(new Error('x'), { code: ErrorCodes.config });
    for (const { guard } of cases) {
      expect(guard(lookAlike)).toBe(false);
      expect(guard(new Error('x'))).toBe(false);
      expect(guard(undefined)).toBe(false);
      expect(guard(null)).toBe(false);
      expect(guard('ERR_PERF_CONFIG')).toBe(false);
    }
    expect(core.isPerfError({ code: 'ERR_PERF_CONFIG' })).toBe(false);
  });

  it('passes cause through', () => {
    const cause = new Error('root');
    expect(new PerfTimeoutError('slow', 10, { cause }).cause).toBe(cause);
    expect(new PerfConfigError('a', 'must be x', 1, { cause }).cause).toBe(cause);
    expect('cause' in new PerfAbortError()).toBe(false);
  });

  it('PerfConfigError names the owner, field, reason and received value', () => {
    const error = new PerfConfigError('timeoutMs', 'must be a positive finite number', -1, {
      owner: 'Deduplicator',
    });
    expect(error.message).toBe('Deduplicator: timeoutMs must be a positive finite number, got -1');
    expect(error.field).toBe('timeoutMs');
    expect(error.reason).toBe('must be a positive finite number');
    expect(error.received).toBe(-1);
  });

  it('PerfTimeoutError keeps its bound', () => {
    expect(new PerfTimeoutError('slow', 250).timeoutMs).toBe(250);
  });

  it('guards recognise errors from another copy of the package (the built CJS next to source ESM)', () => {
    const require = createRequire(import.meta.url);
    const other = require('../dist/index.cjs') as typeof core;
    const foreign = new other.PerfConfigError('x', 'must be y', 1);
    expect(foreign instanceof PerfConfigError).toBe(false); // a different class object...
    expect(core.isPerfConfigError(foreign)).toBe(true); // ...still recognised
    expect(core.isPerfError(foreign)).toBe(true);
    expect(other.isBrokenCircuitError(new BrokenCircuitError())).toBe(true);
    expect(other.isBrokenCircuitError(new IsolatedCircuitError())).toBe(false);
  });
});

describe('describeValue', () => {
  it('renders values briefly and safely', () => {
    expect(describeValue(-1)).toBe('-1');
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue('abc')).toBe('"abc"');
    expect(describeValue('x'.repeat(1000))).toMatch(/\.\.\. \(1000 chars\)$/);
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(true)).toBe('true');
    expect(describeValue(Symbol('s'))).toBe('Symbol(s)');
    expect(describeValue(function named() {})).toBe('function named');
    expect(describeValue([1, 2])).toBe('array(2)');
    expect(describeValue({})).toBe('object');
    expect(describeValue(new Map())).toBe('Map instance');
    expect(describeValue(Object.create(null))).toBe('object');
  });
});
