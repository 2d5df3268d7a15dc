import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackedPackage, packPackages } from '../../../tooling/pack-packages.js';
import { cleanupAll, cleanupOnExit, makeTempDir } from '../src/cleanup.js';
import { installedPackages, writeConsumerProject } from '../src/consumer-project.js';
import { run } from '../src/exec.js';

/**
 * Issue: with `@opentelemetry/api` as a regular dependency, an app on the Node-20 SDK
 * (sdk-trace-base 2.12.1, which peers api <1.10) got two api copies and @perf recorded no spans.
 * Proof from what ships: the packed tarballs, installed next to api 1.9 and that SDK.
 */
const SPANS_SCRIPT = `
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createCache } from '@perf/cache';
import { Deduplicator } from '@perf/dedup';
import { createCircuitBreaker } from '@perf/resilience';

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

const cache = createCache({ namespace: 'otel-peer' });
const value = await cache.getOrSet('k', async () => 42); // a miss: the factory runs
await cache.close();

const dedup = new Deduplicator({ name: 'otel-peer' });
await dedup.run('k', async () => 'v');

const breaker = createCircuitBreaker({ name: 'otel-peer' });
const failed = await breaker.execute(async () => { throw new Error('upstream down'); }).then(() => false, () => true);

console.log(JSON.stringify({
  value,
  failed,
  spans: exporter.getFinishedSpans().map((s) => ({ name: s.name, scope: s.instrumentationScope.name })),
}));
`;

describe('@opentelemetry/api is a peer: spans reach the Node-20 SDK from installed tarballs', () => {
  let project: string;
  let packed: PackedPackage[];

  beforeAll(async () => {
    cleanupOnExit();
    const tarballs = makeTempDir('tarballs');
    project = makeTempDir('otel-peer');
    packed = await packPackages(tarballs);
    const file = (name: string): string => {
      const pkg = packed.find((p) => p.name === name);
      if (!pkg) throw new Error(`${name} was not packed`);
      return `file:${pkg.tarball}`;
    };
    const perf = ['@perf/core', '@perf/dedup', '@perf/cache', '@perf/resilience'];
    writeConsumerProject(project, {
      dependencies: {
        ...Object.fromEntries(perf.map((name) => [name, file(name)])),
        '@opentelemetry/api': '~1.9.0',
        '@opentelemetry/sdk-trace-base': '2.12.1',
      },
      // The tarballs depend on each other by version (`@perf/core: ^0.1.0`), which is not on npm:
      // point those ranges at the same tarballs, as a registry would.
      overrides: Object.fromEntries(perf.map((name) => [name, `$${name}`])),
    });
    writeFileSync(join(project, 'spans.mjs'), SPANS_SCRIPT);
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project });
  });

  afterAll(() => cleanupAll());

  it('installs exactly one copy of @opentelemetry/api, the 1.9 the SDK accepts', () => {
    const copies = installedPackages(project).get('@opentelemetry/api') ?? [];
    expect(copies).toHaveLength(1);
  });

  it('records a cache.factory span (getOrSet miss), a dedup.run span and a breaker failure span', async () => {
    const { stdout } = await run(process.execPath, ['spans.mjs'], { cwd: project, timeoutMs: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      value: number;
      failed: boolean;
      spans: { name: string; scope: string }[];
    };
    expect(result.value).toBe(42);
    expect(result.failed).toBe(true);
    expect(result.spans).toEqual(
      expect.arrayContaining([
        { name: 'cache.factory', scope: '@perf/cache' },
        { name: 'dedup.run', scope: '@perf/dedup' },
        { name: 'breaker failure', scope: '@perf/resilience' },
      ]),
    );
  });
});
