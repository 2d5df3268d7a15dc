import { describe } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';

describe('@perf/dedup as shipped (dist/ through package exports)', () => {
  smokeTestBuiltPackage(new URL('..', import.meta.url), [
    'Deduplicator',
    'SpanAttributes',
    'VERSION',
    'createRequestKey',
    'requestKeyBuilder',
    'dedupMiddleware',
    'fastifyDedup',
  ]);
});
