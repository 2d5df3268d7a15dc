/**
 * The fast path of `canonicalize` for plain JSON data (plain objects, arrays, strings, numbers,
 * booleans, null): the same output, byte for byte, about twice as fast, because it appends to one
 * string and skips the checks only non-JSON values need. Anything else (a `Date`, a `Map`,
 * `undefined`, a class instance, nesting past 64 levels or `maxDepth`, a cycle) makes it give up and
 * `canonicalize` takes its general path, so the encoding of a value never depends on the path taken.
 */

const MAX_FAST_DEPTH = 64;
/** Characters `JSON.stringify` escapes: quote, backslash, controls, and (lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

let out = '';
let depthLimit = MAX_FAST_DEPTH;
/** Set while encoding: a getter that re-enters `canonicalize` must not share `out`. */
let busy = false;

/**
 * `canonicalize(value)` when `value` is plain JSON data nested at most `maxDepth` deep and no longer
 * than `maxLength`; otherwise undefined.
 */
export function canonicalJson(value: unknown, maxLength: number, maxDepth: number): string | undefined {
  if (busy) return undefined;
  busy = true;
  out = '';
  depthLimit = Math.min(MAX_FAST_DEPTH, maxDepth);
  try {
    const ok = encode(value, 0);
    return ok && out.length <= maxLength ? out : undefined;
  } finally {
    out = '';
    busy = false;
  }
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
  if (depth >= depthLimit) return false;
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
