/**
 * A fast path for `canonicalize` over plain JSON data (plain objects, arrays, strings, finite and
 * non-finite numbers, booleans, null): the same output, byte for byte, about twice as fast, because it
 * appends to one string and skips the checks only non-JSON values need. Anything else (a `Date`, a
 * `Map`, `undefined`, a class instance, nesting past 64 levels, a cycle) makes it give up, and the
 * caller uses `canonicalize` itself, so the encoding of a value never depends on the path taken.
 * (A candidate for @perf/core.)
 */

const MAX_DEPTH = 64;
/** Characters `JSON.stringify` escapes: quote, backslash, controls, and (lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

let out = '';

/** `canonicalize(value)` when `value` is plain JSON data no longer than `maxLength`; otherwise undefined. */
export function canonicalJson(value: unknown, maxLength: number): string | undefined {
  out = '';
  const ok = encode(value, 0);
  const result = out;
  out = '';
  return ok && result.length <= maxLength ? result : undefined;
}

function encode(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      out += NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
      return true;
    case 'number':
      out += Object.is(value, -0) ? '-0' : String(value);
      return true;
    case 'boolean':
      out += value ? 'true' : 'false';
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) {
    out += 'null';
    return true;
  }
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    out += '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (!encode(value[i], depth + 1)) return false;
    }
    out += ']';
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length > 1) keys.sort();
  out += '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += ',';
    out += NEEDS_ESCAPE.test(key) ? JSON.stringify(key) : `"${key}"`;
    out += ':';
    if (!encode(object[key], depth + 1)) return false;
  }
  out += '}';
  return true;
}
