import { describe, expect, it } from 'vitest';
import { canonicalize, isPerfKeyError, PerfKeyError } from '../src/index.js';

const same = (a: unknown, b: unknown) => expect(canonicalize(a)).toBe(canonicalize(b));
const differ = (a: unknown, b: unknown) => expect(canonicalize(a)).not.toBe(canonicalize(b));

describe('canonicalize', () => {
  it('ignores object key order, at every depth', () => {
    same({ a: 1, b: { c: 2, d: [1, { x: 1, y: 2 }] } }, { b: { d: [1, { y: 2, x: 1 }], c: 2 }, a: 1 });
    same(Object.assign(Object.create(null), { b: 1, a: 2 }), { a: 2, b: 1 });
  });

  it('keeps array order', () => differ([1, 2], [2, 1]));

  it('never confuses types', () => {
    differ({ a: '1' }, { a: 1 });
    differ(1, 1n);
    differ(1, '1');
    differ(0, -0);
    differ(null, undefined);
    differ({ a: undefined }, {});
    differ(Number.NaN, null);
    differ(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    differ(new Date(0), new Date(0).toISOString());
    differ(new Map([['a', 1]]), [['a', 1]]);
    differ(new Map([['a', 1]]), { a: 1 });
    differ(new Set([1]), [1]);
    differ(new Uint8Array([1, 2]), [1, 2]);
    differ(new Uint8Array([1, 2]), new Uint16Array([1, 2]));
    differ(true, 'true');
    differ('a,b', ['a', 'b']);
    differ({ 'a:1': 2 }, { a: '1:2' });
    differ(['a"', 'b'], ['a', '"b']);
    differ(/a/g, '/a/g');
    differ(new String('x'), 'x');
  });

  it('treats equal data as equal', () => {
    same(new Date(5), new Date(5));
    same(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
      new Map([
        ['b', 2],
        ['a', 1],
      ]),
    );
    same(new Set([3, 1, 2]), new Set([1, 2, 3]));
    same(Buffer.from('hi'), new Uint8Array([104, 105]));
    same(new Uint8Array([9, 8]).buffer, new Uint8Array([9, 8]));
    same(123n, BigInt(123));
    same(new URL('https://x.test/a?b=1'), new URL('https://x.test/a?b=1'));
  });

  it('encodes a sample of values exactly (the format is stable)', () => {
    expect(canonicalize({ b: [1, 'x', null, true], a: -0, c: 2n, d: undefined })).toBe(
      '{"a":-0,"b":[1,"x",null,true],"c":2n,"d":undefined}',
    );
    expect(canonicalize(new Date('2020-01-01T00:00:00.000Z'))).toBe('Date(2020-01-01T00:00:00.000Z)');
    expect(canonicalize(new Date(Number.NaN))).toBe('Date(invalid)');
  });

  it('handles class instances by class and content, and toJSON when they have one', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    class Other {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    same(new Point(1, 2), new Point(1, 2));
    differ(new Point(1, 2), new Point(2, 1));
    differ(new Point(1, 2), new Other(1, 2));
    differ(new Point(1, 2), { x: 1, y: 2 });
    differ(new Error('a'), new Error('b'));
  });

  it('allows shared (non-cyclic) references', () => {
    const shared = { v: 1 };
    expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
  });

  it('throws PerfKeyError for cycles, symbols and functions', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const arrayCycle: unknown[] = [];
    arrayCycle.push([arrayCycle]);
    const mapCycle = new Map<string, unknown>();
    mapCycle.set('m', mapCycle);
    for (const bad of [cyclic, arrayCycle, mapCycle, Symbol('s'), { f: () => 1 }, [Symbol.iterator]]) {
      expect(() => canonicalize(bad)).toThrow(PerfKeyError);
    }
    try {
      canonicalize(cyclic);
    } catch (error) {
      expect(isPerfKeyError(error)).toBe(true);
      expect((error as Error).message).toMatch(/cycle/);
    }
  });

  it('refuses nesting past maxDepth quickly instead of overflowing the stack', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => canonicalize(deep)).toThrow(/maxDepth \(256\)/);
    let ok: unknown = 0;
    for (let i = 0; i < 10; i++) ok = { n: ok };
    expect(() => canonicalize(ok, { maxDepth: 9 })).toThrow(PerfKeyError);
    expect(canonicalize(ok, { maxDepth: 10 })).toContain('"n"');
  });

  it('refuses output past maxLength and turns V8 string-size limits into PerfKeyError', () => {
    expect(() => canonicalize('x'.repeat(101), { maxLength: 100 })).toThrow(/maxLength \(100\)/);
    const wide = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(10)]));
    expect(() => canonicalize(wide, { maxLength: 500 })).toThrow(PerfKeyError);
    const huge = 'y'.repeat(2 ** 27);
    expect(() => canonicalize(Array(8).fill(huge), { maxLength: 2 ** 31 })).toThrow(PerfKeyError);
  });

  it('encodes a 10 MB string in linear time', () => {
    const big = 'z'.repeat(10 * 1024 * 1024);
    const started = performance.now();
    expect(canonicalize({ big }).length).toBe(big.length + 10);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
