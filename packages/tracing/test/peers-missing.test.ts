import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Plays an app that installed @perf/tracing without the OpenTelemetry SDK: a preload makes
// resolving the named packages fail exactly as Node does when they are not installed.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));

function runWithout(hidden: string[], code: string): string {
  const preload = `
    const Module = require('node:module');
    const hidden = ${JSON.stringify(hidden)};
    const orig = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (hidden.includes(request)) {
        const e = new Error("Cannot find module '" + request + "'");
        e.code = 'MODULE_NOT_FOUND';
        throw e;
      }
      return orig.call(this, request, ...rest);
    };`;
  const dir = mkdtempSync(join(tmpdir(), 'perf-tracing-peers-'));
  try {
    const file = join(dir, 'hide-peers.cjs');
    writeFileSync(file, preload);
    return execFileSync(process.execPath, ['--require', file, '--input-type=module', '-e', code], {
      cwd: pkgDir,
      encoding: 'utf8',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('missing optional peers', () => {
  it('setupTracing says exactly what to install; correlation works without any SDK', () => {
    const out = runWithout(
      ['@opentelemetry/sdk-trace-node', '@opentelemetry/context-async-hooks'],
      `
      const t = await import('@perf/tracing');
      try { t.setupTracing({ serviceName: 'svc' }); } catch (e) {
        console.log(JSON.stringify({ code: e.code, packages: e.packages, message: e.message, guard: t.isTracingPeerMissingError(e) }));
      }
      console.log(t.withCorrelation('abc', () => t.correlationId()));
      `,
    );
    const [first, second] = out.trim().split('\n');
    const e = JSON.parse(first!);
    expect(e).toMatchObject({
      code: 'ERR_PERF_TRACING_PEER_MISSING',
      guard: true,
      packages: ['@opentelemetry/sdk-trace-node@2.12.1', '@opentelemetry/context-async-hooks@2.12.1'],
    });
    expect(e.message).toContain(
      'npm i @opentelemetry/sdk-trace-node@2.12.1 @opentelemetry/context-async-hooks@2.12.1',
    );
    expect(second).toBe('abc');
  }, 30_000);

  it('names the exporter package when only it is missing', () => {
    const out = runWithout(
      ['@opentelemetry/exporter-trace-otlp-proto'],
      `
      const t = await import('@perf/tracing');
      try { t.setupTracing({ serviceName: 'svc', exporter: 'otlp-proto' }); } catch (e) { console.log(e.message); }
      const h = t.setupTracing({ serviceName: 'svc', exporter: 'none' }); // nothing half-registered
      await h.shutdown();
      console.log('ok');
      `,
    );
    expect(out).toContain("exporter 'otlp-proto' needs @opentelemetry/exporter-trace-otlp-proto@0.223.1");
    expect(out.trim().endsWith('ok')).toBe(true);
  }, 30_000);
});
