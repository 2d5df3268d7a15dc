import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { smokeTestBuiltPackage } from '../../../tooling/smoke.js';
import { VERSION } from '../src/index.js';

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

describe('VERSION', () => {
  it('matches package.json (spans carry it as the tracer version)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});
