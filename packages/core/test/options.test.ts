import { describe, expect, it } from 'vitest';
import {
  checkOptions,
  is,
  isPerfConfigError,
  isPlainObject,
  MAX_TIMER_DELAY_MS,
  optional,
  PerfConfigError,
  withDefault,
} from '../src/index.js';

function configError(fn: () => unknown): PerfConfigError {
  try {
    fn();
  } catch (error) {
    expect(isPerfConfigError(error)).toBe(true);
    return error as PerfConfigError;
  }
  throw new Error('expected a PerfConfigError');
}

const shape = {
  timeoutMs: withDefault(is.positiveNumber, 1000),
  maxInFlight: withDefault(is.positiveInteger, 1000),
  share: withDefault(is.oneOf('reference', 'clone', 'freeze'), 'reference'),
  name: optional(is.nonEmptyString),
};

describe('checkOptions', () => {
  it('applies defaults for undefined input and missing fields', () => {
    expect(checkOptions('T', undefined, shape)).toEqual({
      timeoutMs: 1000,
      maxInFlight: 1000,
      share: 'reference',
      name: undefined,
    });
    expect(checkOptions('T', { timeoutMs: 5, name: 'a' }, shape)).toMatchObject({ timeoutMs: 5, name: 'a' });
  });

  it('names the field, the rule and the value', () => {
    const error = configError(() => checkOptions('Deduplicator', { timeoutMs: -1 }, shape));
    expect(error.message).toBe('Deduplicator: timeoutMs must be a positive finite number, got -1');
    expect(error.field).toBe('timeoutMs');
    expect(error.received).toBe(-1);
  });

  it.each([
    ['timeoutMs', Number.NaN],
    ['timeoutMs', Number.POSITIVE_INFINITY],
    ['timeoutMs', 0],
    ['timeoutMs', '5'],
    ['maxInFlight', 1.5],
    ['maxInFlight', 0],
    ['maxInFlight', 2 ** 60],
    ['share', 'copy'],
    ['name', ''],
    ['name', 5],
  ])('refuses %s = %s', (field, value) => {
    expect(configError(() => checkOptions('T', { [field]: value }, shape)).field).toBe(field);
  });

  it('refuses unknown keys (typos) unless allowed', () => {
    const error = configError(() => checkOptions('T', { timoutMs: 5 }, shape));
    expect(error.field).toBe('timoutMs');
    expect(error.message).toContain('is not a known option');
    expect(checkOptions('T', { extra: 1 }, shape, { allowUnknown: true }).timeoutMs).toBe(1000);
  });

  it('refuses options that are not plain objects', () => {
    for (const bad of [null, 5, 'x', [], new Map()]) {
      expect(configError(() => checkOptions('T', bad, shape)).field).toBe('options');
    }
    expect(checkOptions('T', Object.create(null), shape).share).toBe('reference');
  });

  it('checks nested objects with dotted field names', () => {
    const nested = { l1: optional(is.object({ maxEntries: withDefault(is.positiveInteger, 10) })) };
    expect(checkOptions('createCache', { l1: {} }, nested).l1).toEqual({ maxEntries: 10 });
    expect(checkOptions('createCache', {}, nested).l1).toBeUndefined();
    const error = configError(() => checkOptions('createCache', { l1: { maxEntries: -3 } }, nested));
    expect(error.field).toBe('l1.maxEntries');
    expect(error.message).toBe('createCache: l1.maxEntries must be a positive integer, got -3');
    expect(configError(() => checkOptions('c', { l1: { maxEntrys: 1 } }, nested)).field).toBe('l1.maxEntrys');
    expect(configError(() => checkOptions('c', { l1: 'big' }, nested)).field).toBe('l1');
  });

  it('checks arrays item by item', () => {
    const tags = { tags: is.arrayOf(is.nonEmptyString) };
    expect(checkOptions('T', { tags: ['a', 'b'] }, tags).tags).toEqual(['a', 'b']);
    expect(configError(() => checkOptions('T', { tags: ['a', ''] }, tags)).field).toBe('tags[1]');
    expect(configError(() => checkOptions('T', { tags: 'a' }, tags)).field).toBe('tags');
  });

  it('anyOf accepts any alternative and explains all of them', () => {
    const s = { l2: is.anyOf('false or an object', is.oneOf(false), is.plainObject) };
    expect(checkOptions('T', { l2: false }, s).l2).toBe(false);
    expect(checkOptions('T', { l2: {} }, s).l2).toEqual({});
    expect(configError(() => checkOptions('T', { l2: true }, s)).message).toBe(
      'T: l2 must be false or an object, got true',
    );
  });

  it('has checks for every common kind', () => {
    const ctx = { owner: 'T', field: 'f' };
    expect(is.nonNegativeNumber(0, ctx)).toBe(0);
    expect(() => is.nonNegativeNumber(-0.1, ctx)).toThrow(PerfConfigError);
    expect(is.nonNegativeInteger(0, ctx)).toBe(0);
    expect(() => is.nonNegativeInteger(-1, ctx)).toThrow(PerfConfigError);
    expect(is.delayMs(MAX_TIMER_DELAY_MS, ctx)).toBe(2_147_483_647);
    expect(() => is.delayMs(MAX_TIMER_DELAY_MS + 1, ctx)).toThrow(/at most 2147483647/);
    expect(() => is.delayMs(0, ctx)).toThrow(PerfConfigError);
    expect(is.nonNegativeDelayMs(0, ctx)).toBe(0);
    expect(() => is.nonNegativeDelayMs(2 ** 31, ctx)).toThrow(PerfConfigError);
    expect(() => is.nonNegativeDelayMs(-1, ctx)).toThrow(PerfConfigError);
    expect(is.ratio(0.5, ctx)).toBe(0.5);
    expect(() => is.ratio(1.1, ctx)).toThrow(PerfConfigError);
    expect(is.boolean(false, ctx)).toBe(false);
    expect(() => is.boolean('true', ctx)).toThrow(PerfConfigError);
    expect(is.string('', ctx)).toBe('');
    const fn = () => 1;
    expect(is.function(fn, ctx)).toBe(fn);
    expect(() => is.function({}, ctx)).toThrow(PerfConfigError);
    const signal = new AbortController().signal;
    expect(is.abortSignal(signal, ctx)).toBe(signal);
    expect(() => is.abortSignal({}, ctx)).toThrow(PerfConfigError);
  });

  it('isPlainObject tells literals from instances', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject(null)).toBe(false);
  });
});
