import { describe } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';

describe('@perf/tracing as shipped (dist/ through package exports)', () => {
  smokeTestBuiltPackage(new URL('..', import.meta.url), [
    'VERSION',
    'setupTracing',
    'correlationId',
    'withCorrelation',
    'correlationMiddleware',
    'correlationPlugin',
    'propagatingFetch',
    'propagatingRequest',
    'traceHeaders',
    'pinoMixin',
    'defaultSampler',
    'rateLimitingSampler',
    'ruleBasedSampler',
    'jaegerRemoteSampler',
    'isTracingPeerMissingError',
    'isTracingAlreadySetUpError',
  ]);
});
