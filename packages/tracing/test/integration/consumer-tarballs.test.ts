import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../../tooling/otlp-receiver.js';
import { PEER_VERSIONS } from '../../src/index.js';

// A user's project: the packed @perf tarballs (what npm would publish) plus the SDK pins, installed
// with npm from the registry, recording spans from cache, dedup and breaker through setupTracing.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
let dir: string;
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), 'perf-tracing-consumer-'));
  for (const p of ['core', 'dedup', 'cache', 'resilience', 'tracing']) {
    execFileSync('pnpm', ['pack', '--pack-destination', dir], {
      cwd: join(repo, 'packages', p),
      stdio: 'ignore',
    });
  }
  const tarballs = readdirSync(dir)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => `./${f}`);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const sdk = [
    '@opentelemetry/sdk-trace-node',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/resources',
    '@opentelemetry/core',
    '@opentelemetry/context-async-hooks',
    '@opentelemetry/exporter-trace-otlp-http',
  ] as const;
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...tarballs,
      '@opentelemetry/api@~1.9.0',
      ...sdk.map((n) => `${n}@${PEER_VERSIONS[n]}`),
    ],
    { cwd: dir, stdio: 'ignore', timeout: 240_000 },
  );
}, 300_000);

afterAll(async () => {
  await receiver.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const script = (url: string) => `
  const { trace } = await import('@opentelemetry/api');
  const { setupTracing, withCorrelation } = await import('@perf/tracing');
  const { createCache } = await import('@perf/cache');
  const { Deduplicator } = await import('@perf/dedup');
  const { createCircuitBreaker } = await import('@perf/resilience');
  const tracing = setupTracing({ serviceName: 'consumer', endpoint: '${url}' });
  const cache = createCache({ namespace: 'consumer' });
  const dedup = new Deduplicator({ name: 'consumer' });
  const breaker = createCircuitBreaker({ name: 'consumer-db' });
  await trace.getTracer('app').startActiveSpan('request', async (root) => {
    await withCorrelation('consumer-1', async () => {
      const slow = () => new Promise((r) => setTimeout(() => r(1), 20));
      await Promise.all([dedup.run('k', slow), dedup.run('k', slow)]);
      await cache.getOrSet('user:1', async () => 'v');
      await breaker.execute(async () => { throw new Error('db down'); }).catch(() => {});
    });
    root.end();
  });
  await cache.close();
  await tracing.shutdown();
`;

describe('consumer project installed from packed tarballs', () => {
  it('records cache, dedup and breaker spans through setupTracing (ESM)', async () => {
    // Asynchronously: the receiver lives in this process and must keep answering meanwhile.
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(receiver.url)], {
      cwd: dir,
      timeout: 60_000,
    });
    const spans = receiver.spans.filter((s) => s.resource['service.name'] === 'consumer');
    const root = spans.find((s) => s.name === 'request')!;
    const names = spans.filter((s) => s.traceId === root.traceId).map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['request', 'dedup.run', 'dedup.join', 'cache.factory', 'breaker failure']),
    );
  }, 90_000);

  it('loads through require (CJS) as well', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        "const t = require('@perf/tracing'); const h = t.setupTracing({ serviceName: 'cjs', exporter: 'none' }); console.log(typeof h.shutdown, t.withCorrelation('c', () => t.correlationId())); h.shutdown();",
      ],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    expect(out.trim()).toBe('function c');
  }, 90_000);
});
