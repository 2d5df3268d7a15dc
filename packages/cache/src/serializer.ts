/**
 * How values are turned into bytes for L2 and L3. The default, msgpackr, keeps `Date`, `Map`,
 * `Set`, `BigInt`, `Uint8Array`/`Buffer`, `undefined` and nested objects intact; decoding never
 * assigns `__proto__` (msgpackr renames such keys), so it cannot pollute prototypes.
 */
import { PerfSerializationError } from '@perf/core';
import { Packr } from 'msgpackr';

/** Turns values into bytes and back. Both directions may throw; the cache turns that into a typed error or a miss. */
export interface Serializer {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

/** Options that make msgpackr lossless for the types the cache promises to keep. */
const PACKR_OPTIONS = {
  moreTypes: true,
  // Records (with inline definitions) keep plain objects apart from Maps, which msgpack cannot.
  useRecords: true,
  mapsAsObjects: false,
  int64AsType: 'bigint',
  useBigIntExtension: true,
} as const;

/**
 * Values msgpackr would silently drop or flatten: functions and symbols (lost), WeakMap/WeakSet
 * and Promises (no content), class instances (their prototype would be lost). Walks the value
 * once, visiting each object once (cycles are refused too: msgpackr would overflow the stack).
 *
 * @throws {PerfSerializationError} naming the path of the first offending part.
 */
export function assertSerializable(value: unknown, path = 'value', seen: Set<object> = new Set()): void {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      throw new PerfSerializationError(`${path} is a ${typeof value}, which cannot be serialized`);
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new PerfSerializationError(`${path} is a circular reference`);
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) assertSerializable(value[i], `${path}[${i}]`, seen);
      } else if (value instanceof Map) {
        for (const [k, v] of value) {
          assertSerializable(k, `${path}<key>`, seen);
          assertSerializable(v, `${path}.get(${String(k)})`, seen);
        }
      } else if (value instanceof Set) {
        for (const v of value) assertSerializable(v, `${path}<item>`, seen);
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const name = (value as object).constructor?.name ?? 'unknown';
          throw new PerfSerializationError(
            `${path} is a ${name} instance, which would lose its class when serialized`,
          );
        }
        for (const key of Object.keys(value)) {
          assertSerializable((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      return;
  }
}

/**
 * The default serializer: msgpackr with self-describing records (no shared state between
 * processes), preceded by a check that refuses values it would lose.
 */
export function createMsgpackSerializer(): Serializer {
  const packr = new Packr(PACKR_OPTIONS);
  return {
    serialize(value) {
      assertSerializable(value);
      return packr.pack(value);
    },
    deserialize(bytes) {
      return packr.unpack(bytes);
    },
  };
}
