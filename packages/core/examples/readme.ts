import {
  checkOptions,
  hashKey,
  is,
  isPerfConfigError,
  optional,
  subscribeAll,
  withDefault,
} from '@perf/core';

// 1. Validate options at the boundary; errors name the field.
try {
  checkOptions(
    'createClient',
    { timeoutMs: -1 },
    {
      timeoutMs: withDefault(is.positiveNumber, 1000),
      name: optional(is.nonEmptyString),
    },
  );
} catch (error) {
  if (!isPerfConfigError(error)) throw error;
  console.log(error.code, error.message); // "createClient: timeoutMs must be a positive finite number, got -1"
}

// 2. Stable keys: key order does not matter, types never collide.
console.log(hashKey({ user: 1, q: 'a' }) === hashKey({ q: 'a', user: 1 })); // true
console.log(hashKey({ a: '1' }) !== hashKey({ a: 1 })); // true

// 3. Watch every @perf service in the process.
const off = subscribeAll(({ channel, payload }) => console.log(channel, payload));
off();
