/**
 * Timers a caller awaits (retry backoff, timeout) keep the process alive: a script whose only
 * pending work is a breaker call must settle it, not exit early with an unsettled top-level await
 * (exit code 13). Runs the built package in a child process, as a user's script would.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = new URL('../dist/index.js', import.meta.url).href;
const cwd = fileURLToPath(new URL('..', import.meta.url));

function runScript(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import { createCircuitBreaker } from ${JSON.stringify(dist)};\n${body}`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('awaited timers keep the process alive', { timeout: 40_000 }, () => {
  it('a call waiting for its retry backoff settles before the process exits', async () => {
    const result = await runScript(`
      const b = createCircuitBreaker({ retry: { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 400 } });
      let n = 0;
      console.log(await b.execute(async () => { if (n++ < 1) throw new Error('x'); return 'ok'; }));
    `);
    expect(result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('a call with a signal waiting for its retry backoff settles before the process exits', async () => {
    const result = await runScript(`
      const b = createCircuitBreaker({ retry: { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 400 } });
      let n = 0;
      const signal = new AbortController().signal;
      console.log(await b.execute(async () => { if (n++ < 1) throw new Error('x'); return 'ok'; }, { signal }));
    `);
    expect(result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('a caller released by its signal mid-backoff no longer holds the process', async () => {
    const started = Date.now();
    const result = await runScript(`
      const b = createCircuitBreaker({ retry: { maxAttempts: 3, initialDelayMs: 60000, maxDelayMs: 60000 } });
      const ctrl = new AbortController();
      setTimeout(() => ctrl.abort(), 50);
      const error = await b.execute(async () => { throw new Error('x'); }, { signal: ctrl.signal }).catch((e) => e);
      console.log(error.name);
    `);
    expect(result).toEqual({ code: 0, stdout: 'PerfAbortError\n', stderr: '' });
    // The 60 s backoff it left behind does not keep the process: it exits well before.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a call waiting on its timeout settles before the process exits', async () => {
    const result = await runScript(`
      const b = createCircuitBreaker({ timeoutMs: 200, fallback: { value: 'ok' } });
      console.log(await b.execute(() => new Promise(() => {})));
    `);
    expect(result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('a queued bulkhead call behind a retrying one settles too', async () => {
    const result = await runScript(`
      const b = createCircuitBreaker({
        bulkhead: { limit: 1, queue: 1 },
        retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 100 },
      });
      let n = 0;
      const first = b.execute(async () => { if (n++ < 1) throw new Error('x'); return 'o'; });
      const second = b.execute(async () => 'k');
      console.log((await first) + (await second));
    `);
    expect(result).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });
});
