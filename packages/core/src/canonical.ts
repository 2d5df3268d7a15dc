/**
 * Canonical serialization: one string per value, equal exactly when the values are equal as data.
 *
 * - Object keys are sorted, so `{a, b}` and `{b, a}` encode the same.
 * - Types never collide: `{a: "1"}` vs `{a: 1}`, `1` vs `1n`, `0` vs `-0`, `null` vs `undefined`,
 *   a `Date` vs its ISO string, a `Map` vs an array of pairs, a missing key vs `undefined`.
 * - Defined for every input: cycles, symbols, functions, too-deep nesting and output past
 *   `maxLength` throw a `PerfKeyError`, never hang or overflow the stack.
 */
import { canonicalJson } from './canonical-json.js';
import { PerfKeyError } from './errors.js';

export interface CanonicalizeOptions {
  /** Deepest nesting allowed (default 256); deeper input throws `PerfKeyError`. */
  maxDepth?: number;
  /** Longest output allowed in UTF-16 code units (default 64 Mi); longer throws `PerfKeyError`. */
  maxLength?: number;
}

const DEFAULT_MAX_DEPTH = 256;
const DEFAULT_MAX_LENGTH = 64 * 1024 * 1024;

interface Walk {
  maxDepth: number;
  maxLength: number;
  /** Objects on the current path: a repeat is a cycle (shared, non-cyclic references are fine). */
  path: Set<object>;
}

/**
 * Encodes `value` canonically.
 * @throws {PerfKeyError} for cycles, symbols, functions, nesting past `maxDepth`, output past `maxLength`.
 */
export function canonicalize(value: unknown, options?: CanonicalizeOptions): string {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH;
  try {
    const fast = canonicalJson(value, maxLength, maxDepth);
    if (fast !== undefined) return fast;
    return encode(value, { maxDepth, maxLength, path: new Set() }, 0);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new PerfKeyError('Cannot canonicalize value: it is too large to encode', { cause: error });
    }
    throw error;
  }
}

function encode(value: unknown, walk: Walk, depth: number): string {
  switch (typeof value) {
    case 'string':
      return checkLength(JSON.stringify(value), walk);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value); // NaN, Infinity, -Infinity stay distinct
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      throw new PerfKeyError(`Cannot canonicalize a symbol (${value.toString()})`);
    case 'function':
      throw new PerfKeyError(`Cannot canonicalize a function (${value.name || 'anonymous'})`);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (depth >= walk.maxDepth) {
    throw new PerfKeyError(`Cannot canonicalize value: nesting deeper than maxDepth (${walk.maxDepth})`);
  }
  if (walk.path.has(object)) throw new PerfKeyError('Cannot canonicalize a value with a cycle');
  walk.path.add(object);
  try {
    return checkLength(encodeObject(object, walk, depth + 1), walk);
  } finally {
    walk.path.delete(object);
  }
}

function encodeObject(object: object, walk: Walk, depth: number): string {
  if (Array.isArray(object)) {
    let out = '[';
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out += ',';
      out += encode(object[i], walk, depth);
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto === Object.prototype || proto === null) {
    return encodeEntries('{', object as Record<string, unknown>, walk, depth);
  }
  if (object instanceof Date) {
    const time = object.getTime();
    return `Date(${Number.isNaN(time) ? 'invalid' : object.toISOString()})`;
  }
  if (object instanceof Map) {
    const entries = [...object].map(([k, v]) => `${encode(k, walk, depth)}:${encode(v, walk, depth)}`).sort();
    return `Map{${entries.join(',')}}`;
  }
  if (object instanceof Set) {
    const items = [...object].map((item) => encode(item, walk, depth)).sort();
    return `Set[${items.join(',')}]`;
  }
  if (ArrayBuffer.isView(object)) {
    const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64');
    const kind =
      object instanceof Uint8Array || object instanceof DataView ? 'bytes' : object.constructor.name;
    return `${kind}(${bytes})`;
  }
  if (object instanceof ArrayBuffer) return `bytes(${Buffer.from(object).toString('base64')})`;
  if (object instanceof RegExp) return `RegExp(${JSON.stringify(object.source)},${object.flags})`;
  if (object instanceof Error)
    return `Error(${JSON.stringify(object.name)},${JSON.stringify(object.message)})`;
  if (object instanceof String || object instanceof Number || object instanceof Boolean) {
    return `${object.constructor.name}(${encode(object.valueOf(), walk, depth)})`;
  }
  const className =
    typeof proto?.constructor === 'function' ? proto.constructor.name || 'anonymous' : 'anonymous';
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    return `${className}:${encode(toJSON.call(object), walk, depth)}`;
  }
  return encodeEntries(`${className}{`, object as Record<string, unknown>, walk, depth);
}

function encodeEntries(open: string, object: Record<string, unknown>, walk: Walk, depth: number): string {
  const keys = Object.keys(object).sort();
  let out = open;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += ',';
    out += `${JSON.stringify(key)}:${encode(object[key], walk, depth)}`;
    if (out.length > walk.maxLength) checkLength(out, walk);
  }
  return `${out}}`;
}

function checkLength(encoded: string, walk: Walk): string {
  if (encoded.length > walk.maxLength) {
    throw new PerfKeyError(
      `Cannot canonicalize value: encoding is longer than maxLength (${walk.maxLength})`,
    );
  }
  return encoded;
}
