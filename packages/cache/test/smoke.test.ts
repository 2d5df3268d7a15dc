import { describe } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';

describe('@perf/cache as shipped (dist/ through package exports)', () => {
  smokeTestBuiltPackage(new URL('..', import.meta.url), [
    'TieredCache',
    'VERSION',
    'assertSerializable',
    'createCache',
    'createMsgpackSerializer',
  ]);
});
