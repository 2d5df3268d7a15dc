import { describe } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';

describe('@perf/resilience as shipped (dist/ through package exports)', () => {
  smokeTestBuiltPackage(new URL('..', import.meta.url), [
    'BreakerRegistry',
    'BrokenCircuitError',
    'BulkheadRejectedError',
    'IsolatedCircuitError',
    'RedisBreakerSync',
    'ResilientCircuitBreaker',
    'VERSION',
    'createBreakerRegistry',
    'createCircuitBreaker',
    'createRedisBreakerSync',
    'isBrokenCircuitError',
    'isBulkheadRejectedError',
    'isIsolatedCircuitError',
  ]);
});
