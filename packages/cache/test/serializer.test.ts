import { isPerfSerializationError, PerfSerializationError } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { CacheEntry } from '../src/entry.js';
import { CorruptEntryError, decodeEntry, encodeEntry } from '../src/envelope.js';
import { assertSerializable, createMsgpackSerializer } from '../src/serializer.js';

const serializer = createMsgpackSerializer();
const roundTrip = <T>(value: T): T => serializer.deserialize(serializer.serialize(value)) as T;

describe('msgpack serializer', () => {
  it('keeps Date, Map, Set, BigInt, bytes, undefined and nesting intact', () => {
    const value = {
      date: new Date(1_700_000_000_123),
      map: new Map<unknown, unknown>([
        [1, 'one'],
        ['k', { nested: true }],
      ]),
      set: new Set([1, 'two']),
      small: 5n,
      big: 2n ** 80n,
      negative: -7n,
      bytes: new Uint8Array([1, 2, 3]),
      buffer: Buffer.from('hi'),
      missing: undefined,
      list: [1, undefined, null, { a: [{ b: 'c' }] }],
      plain: { x: 1 },
      large: 2 ** 40,
    };
    const out = roundTrip(value);
    expect(out).toEqual(value);
    expect(out.date).toBeInstanceOf(Date);
    expect(out.map).toBeInstanceOf(Map);
    expect(out.plain).not.toBeInstanceOf(Map);
    expect(out.set).toBeInstanceOf(Set);
    expect(typeof out.small).toBe('bigint');
    expect(out.big).toBe(2n ** 80n);
    expect(out.bytes).toBeInstanceOf(Uint8Array);
    expect(Object.hasOwn(out, 'missing')).toBe(true);
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('cannot pollute prototypes: __proto__ and constructor keys stay data', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}');
    const out = roundTrip(evil) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it.each([
    ['a function', () => 1, 'value is a function'],
    ['a symbol', Symbol('s'), 'value is a symbol'],
    ['a nested function', { a: { b: [() => 1] } }, 'value.a.b[0] is a function'],
    ['a class instance', { at: new (class Foo {})() }, 'value.at is a Foo instance'],
    ['a WeakMap', new WeakMap(), 'WeakMap instance'],
    ['a Map value', new Map([['k', Symbol('x')]]), 'value.get(k) is a symbol'],
  ])('refuses %s with a typed error naming the path', (_name, value, message) => {
    let caught: unknown;
    try {
      serializer.serialize(value);
    } catch (error) {
      caught = error;
    }
    expect(isPerfSerializationError(caught)).toBe(true);
    expect((caught as Error).message).toContain(message);
  });

  it('refuses cycles but accepts a shared (non-cyclic) object twice', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => assertSerializable(cyclic)).toThrow(PerfSerializationError);
    const shared = { n: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { n: 1 }, b: { n: 1 } });
  });
});

describe('entry envelope', () => {
  it('round-trips the times, tags and value', () => {
    const entry = new CacheEntry({ v: new Date(3) }, 1.5, 10, 20, Number.POSITIVE_INFINITY, ['a', 'ü']);
    const back = decodeEntry(encodeEntry(entry, serializer), serializer);
    expect(back).toMatchObject({ createdAt: 1.5, expiresAt: 10, staleUntil: 20, tags: ['a', 'ü'] });
    expect(back.refreshAt).toBe(Number.POSITIVE_INFINITY);
    expect(back.value).toEqual({ v: new Date(3) });
  });

  it.each([
    ['foreign bytes', Buffer.from('hello world, this is not an entry at all')],
    ['an empty buffer', Buffer.alloc(0)],
    ['a string', 'PC\u0001'],
    ['truncated tags', Buffer.concat([Buffer.from([0x50, 0x43, 1]), Buffer.alloc(32), Buffer.from([0, 3])])],
  ])('reads %s as corrupt', (_name, data) => {
    expect(() => decodeEntry(data, serializer)).toThrow(CorruptEntryError);
  });

  it('reads a value the serializer cannot decode as corrupt', () => {
    const bytes = encodeEntry(new CacheEntry('x', 1, 2, 2, 3, undefined), serializer);
    const broken = Buffer.concat([Buffer.from(bytes.subarray(0, 37)), Buffer.from([0xd9, 0x05, 0x61, 0x62])]);
    expect(() => decodeEntry(broken, serializer)).toThrow(CorruptEntryError);
  });

  it('wraps a custom serializer failure in PerfSerializationError', () => {
    const failing = {
      serialize: () => {
        throw new TypeError('nope');
      },
      deserialize: () => undefined,
    };
    expect(() => encodeEntry(new CacheEntry(1, 0, 1, 1, 2, undefined), failing)).toThrow(
      PerfSerializationError,
    );
  });
});
