import { describe } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';

describe('@perf/core as shipped (dist/ through package exports)', () => {
  smokeTestBuiltPackage(new URL('..', import.meta.url), [
    'PerfError',
    'PerfConfigError',
    'hashKey',
    'canonicalize',
    'channels',
  ]);
});
