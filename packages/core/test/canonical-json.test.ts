import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical-json.js';
import { canonicalize } from '../src/index.js';

/** A seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '',
  'a',
  'héllo',
  '"quoted"',
  'back\\slash',
  'line\nbreak',
  '\u0000\u001f',
  '😀',
  '\ud800',
  'ü',
];
const NUMBERS = [
  0,
  -0,
  1,
  -1.5,
  1e21,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

function randomJson(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 4 : 7));
  switch (pick) {
    case 0:
      return STRINGS[Math.floor(next() * STRINGS.length)];
    case 1:
      return NUMBERS[Math.floor(next() * NUMBERS.length)];
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth + 1));
    case 5: {
      const object: Record<string, unknown> = next() < 0.2 ? Object.create(null) : {};
      for (let i = Math.floor(next() * 5); i > 0; i--) {
        object[STRINGS[Math.floor(next() * STRINGS.length)]! + i] = randomJson(next, depth + 1);
      }
      return object;
    }
    default:
      return { nested: randomJson(next, depth + 1), list: [randomJson(next, depth + 1)] };
  }
}

describe('canonicalJson (fast path of canonicalize for plain JSON data)', () => {
  it('gives exactly what canonicalize gives, for 5,000 random JSON values', () => {
    const next = rng(42);
    for (let i = 0; i < 5_000; i++) {
      const value = randomJson(next, 0);
      expect(canonicalJson(value, 1e9, 256)).toBe(canonicalize(value));
    }
  });

  it.each([
    ['a Date', { at: new Date(0) }],
    ['a Map', new Map()],
    ['undefined inside', { a: undefined }],
    // biome-ignore lint/suspicious/noSparseArray: a hole on purpose
    ['an array hole', [1, , 3]],
    ['a bigint', 1n],
    ['a class instance', new (class Point {})()],
    ['deep nesting', JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`)],
  ])('gives up on %s (the caller falls back to canonicalize)', (_label, value) => {
    expect(canonicalJson(value, 1e9, 256)).toBeUndefined();
  });

  it('gives up on a cycle instead of looping', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(canonicalJson(cyclic, 1e9, 256)).toBeUndefined();
  });

  it('gives up past maxDepth, so canonicalize still refuses values nested too deep', () => {
    expect(canonicalJson({ a: { b: 1 } }, 1e9, 2)).toBe('{"a":{"b":1}}');
    expect(canonicalJson({ a: { b: { c: 1 } } }, 1e9, 2)).toBeUndefined();
    expect(() => canonicalize({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toThrow(/maxDepth/);
  });

  it('a getter that re-enters canonicalize gets the general path, not a shared buffer', () => {
    const tricky = {
      get inner() {
        return canonicalize({ z: 1, y: 2 });
      },
      a: 1,
    };
    expect(canonicalize(tricky)).toBe('{"a":1,"inner":"{\\"y\\":2,\\"z\\":1}"}');
  });

  it('gives up past maxLength', () => {
    expect(canonicalJson({ text: 'x'.repeat(100) }, 50, 256)).toBeUndefined();
  });
});
