/**
 * A tiny, dependency-free options checker. Each package declares the shape of its options once;
 * `checkOptions` validates at the boundary and throws a `PerfConfigError` naming the field
 * (dotted for nested objects) before anything is constructed, so nothing is half-built.
 *
 * @example
 * const opts = checkOptions('Deduplicator', input, {
 *   timeoutMs: withDefault(is.positiveNumber, 30_000),
 *   share: withDefault(is.oneOf('reference', 'clone', 'freeze'), 'reference'),
 *   name: optional(is.nonEmptyString),
 * });
 */
import { CLOCK_MUST_BE, type Clock, isClock } from './clock.js';
import { PerfConfigError } from './errors.js';
import { MAX_TIMER_DELAY_MS } from './timer-delay.js';

/** Where a value sits: the API that received it and the dotted field path. */
export interface CheckContext {
  owner: string;
  field: string;
}

/** Validates one value; returns it (possibly normalised) or throws `PerfConfigError`. */
export type Check<T> = (value: unknown, ctx: CheckContext) => T;

/** Maps an options shape to the type `checkOptions` returns. */
export type CheckedOptions<S extends Record<string, Check<unknown>>> = { [K in keyof S]: ReturnType<S[K]> };

function fail(ctx: CheckContext, reason: string, value: unknown): never {
  throw new PerfConfigError(ctx.field, reason, value, { owner: ctx.owner });
}

/** Builds a check from a predicate and the words `must be ...` that explain it. */
export function check<T>(predicate: (value: unknown) => boolean, mustBe: string): Check<T> {
  return (value, ctx) => (predicate(value) ? (value as T) : fail(ctx, `must be ${mustBe}`, value));
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Ready-made checks for the value kinds @perf options use. */
export const is = {
  positiveNumber: check<number>((v) => isFiniteNumber(v) && v > 0, 'a positive finite number'),
  nonNegativeNumber: check<number>((v) => isFiniteNumber(v) && v >= 0, 'a non-negative finite number'),
  positiveInteger: check<number>((v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer'),
  nonNegativeInteger: check<number>(
    (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    'a non-negative integer',
  ),
  /** A timer delay in ms: positive and at most `MAX_TIMER_DELAY_MS`. */
  delayMs: check<number>(
    (v) => isFiniteNumber(v) && v > 0 && v <= MAX_TIMER_DELAY_MS,
    `a positive number of ms, at most ${MAX_TIMER_DELAY_MS} (the longest Node.js timer)`,
  ),
  /** A timer delay in ms that may be 0: at most `MAX_TIMER_DELAY_MS`. */
  nonNegativeDelayMs: check<number>(
    (v) => isFiniteNumber(v) && v >= 0 && v <= MAX_TIMER_DELAY_MS,
    `a non-negative number of ms, at most ${MAX_TIMER_DELAY_MS} (the longest Node.js timer)`,
  ),
  /** A fraction in [0, 1], e.g. a sampling or failure rate. */
  ratio: check<number>((v) => isFiniteNumber(v) && v >= 0 && v <= 1, 'a number between 0 and 1'),
  boolean: check<boolean>((v) => typeof v === 'boolean', 'a boolean'),
  string: check<string>((v) => typeof v === 'string', 'a string'),
  nonEmptyString: check<string>((v) => typeof v === 'string' && v.length > 0, 'a non-empty string'),
  function: check<(...args: never[]) => unknown>((v) => typeof v === 'function', 'a function'),
  abortSignal: check<AbortSignal>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as AbortSignal).aborted === 'boolean' &&
      typeof (v as AbortSignal).addEventListener === 'function',
    'an AbortSignal',
  ),
  plainObject: check<Record<string, unknown>>(isPlainObject, 'a plain object'),
  /** A `Clock`: an object with `now`, `setTimeout` and `clearTimeout` (see `isClock`). */
  clock: check<Clock>(isClock, CLOCK_MUST_BE),
  /** One of the listed literal values. */
  oneOf<const V extends readonly (string | number | boolean)[]>(...values: V): Check<V[number]> {
    return check<V[number]>(
      (v) => values.includes(v as V[number]),
      `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`,
    );
  },
  /** An array whose every item passes `item`; reports the failing index, e.g. `tags[2]`. */
  arrayOf<T>(item: Check<T>): Check<T[]> {
    return (value, ctx) => {
      if (!Array.isArray(value)) return fail(ctx, 'must be an array', value);
      return value.map((v, i) => item(v, { owner: ctx.owner, field: `${ctx.field}[${i}]` }));
    };
  },
  /** A nested options object, checked field by field with dotted names. */
  object<S extends Record<string, Check<unknown>>>(
    shape: S,
    options?: { allowUnknown?: boolean },
  ): Check<CheckedOptions<S>> {
    return (value, ctx) => checkShape(ctx.owner, value, shape, ctx.field, options?.allowUnknown ?? false);
  },
  /** Passes when any of the checks passes; the error lists what was accepted. */
  anyOf<T extends readonly Check<unknown>[]>(mustBe: string, ...checks: T): Check<ReturnType<T[number]>> {
    return (value, ctx) => {
      for (const c of checks) {
        try {
          return c(value, ctx) as ReturnType<T[number]>;
        } catch {
          // try the next alternative
        }
      }
      return fail(ctx, `must be ${mustBe}`, value);
    };
  },
};

/** Lets `undefined` through; anything else must pass `inner`. */
export function optional<T>(inner: Check<T>): Check<T | undefined> {
  return (value, ctx) => (value === undefined ? undefined : inner(value, ctx));
}

/** Replaces `undefined` by `fallback`; anything else must pass `inner`. */
export function withDefault<T>(inner: Check<T>, fallback: T): Check<T> {
  return (value, ctx) => (value === undefined ? fallback : inner(value, ctx));
}

/**
 * Validates `input` against `shape`. `undefined` input counts as `{}`. Unknown keys are refused
 * (a typo such as `timoutMs` would otherwise be silently ignored) unless `allowUnknown` is set.
 *
 * @throws {PerfConfigError} naming the first offending field.
 */
export function checkOptions<S extends Record<string, Check<unknown>>>(
  owner: string,
  input: unknown,
  shape: S,
  options?: { allowUnknown?: boolean },
): CheckedOptions<S> {
  return checkShape(owner, input, shape, '', options?.allowUnknown ?? false);
}

function checkShape<S extends Record<string, Check<unknown>>>(
  owner: string,
  input: unknown,
  shape: S,
  prefix: string,
  allowUnknown: boolean,
): CheckedOptions<S> {
  const source = input === undefined ? {} : input;
  if (!isPlainObject(source)) {
    return fail({ owner, field: prefix || 'options' }, 'must be a plain object', input);
  }
  if (!allowUnknown) {
    for (const key of Object.keys(source)) {
      if (!Object.hasOwn(shape, key)) {
        const known = Object.keys(shape).join(', ');
        fail(
          { owner, field: prefix ? `${prefix}.${key}` : key },
          `is not a known option (known: ${known})`,
          source[key],
        );
      }
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) {
    out[key] = shape[key]!(source[key], { owner, field: prefix ? `${prefix}.${key}` : key });
  }
  return out as CheckedOptions<S>;
}

/** True for `{}` literals and `Object.create(null)` objects, not class instances or arrays. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
