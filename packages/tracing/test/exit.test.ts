import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());

function run(
  code: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (c, signal) => {
      clearTimeout(killer);
      resolve({ code: c, signal, ms: Date.now() - started });
    });
  });
}

describe('shutdown flushes everything and lets the process exit', () => {
  it('a process that sets up, makes spans and shuts down exits by itself with every span delivered', async () => {
    const r = await run(`
      import { trace } from '@opentelemetry/api';
      const { setupTracing } = await import('@perf/tracing');
      const tracing = setupTracing({ serviceName: 'exiting', endpoint: '${receiver.url}', batch: { scheduledDelayMs: 60000 } });
      const t = trace.getTracer('exit');
      for (let i = 0; i < 1000; i++) t.startSpan('s' + i).end();
      await tracing.shutdown();
    `);
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(receiver.spans.filter((s) => s.resource['service.name'] === 'exiting')).toHaveLength(1000);
  }, 30_000);

  it('even without shutdown, an idle traced process is not kept alive by the SDK', async () => {
    const r = await run(`
      import { trace } from '@opentelemetry/api';
      const { setupTracing } = await import('@perf/tracing');
      setupTracing({ serviceName: 'idle', endpoint: '${receiver.url}' });
      trace.getTracer('exit').startSpan('one').end();
    `);
    expect(r).toMatchObject({ code: 0, signal: null });
  }, 30_000);

  it('shutdown with the endpoint down still resolves and the process exits', async () => {
    const r = await run(`
      import { trace } from '@opentelemetry/api';
      const { setupTracing } = await import('@perf/tracing');
      const tracing = setupTracing({ serviceName: 'down', endpoint: 'http://127.0.0.1:9/v1/traces', batch: { exportTimeoutMs: 2000 } });
      for (let i = 0; i < 100; i++) trace.getTracer('exit').startSpan('s').end();
      await tracing.shutdown();
      const s = tracing.exportStats();
      if (s.failed !== 100 || s.pending !== 0) { console.error(s); process.exit(3); }
    `);
    expect(r).toMatchObject({ code: 0, signal: null });
  }, 30_000);
});
