/**
 * How a settled value reaches the callers that joined a call: by reference, as a
 * `structuredClone` each, or deep-frozen once.
 */
import { PerfSerializationError } from '@perf/core';

/** `reference`: everyone gets the same object; `clone`: followers get copies; `freeze`: one frozen object. */
export type ShareMode = 'reference' | 'clone' | 'freeze';

/**
 * A structured clone of `value`.
 * @throws {PerfSerializationError} when the value cannot be cloned (functions, class instances with
 * private state, ...), with the `DataCloneError` as `cause`.
 */
export function cloneValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  try {
    return structuredClone(value);
  } catch (error) {
    throw new PerfSerializationError('Deduplicator: the shared result cannot be cloned (share: "clone")', {
      cause: error,
    });
  }
}

/**
 * Freezes `value` and everything reachable through its own properties, in place, and returns it.
 * Typed arrays and array buffers cannot be frozen and are left as they are; cycles are fine.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const stack: object[] = [value as object];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const object = stack.pop()!;
    if (seen.has(object) || ArrayBuffer.isView(object) || object instanceof ArrayBuffer) continue;
    seen.add(object);
    Object.freeze(object);
    for (const key of Reflect.ownKeys(object)) {
      const descriptor = Object.getOwnPropertyDescriptor(object, key);
      const child = descriptor?.value;
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return value;
}
