import { spawn } from 'node:child_process';
import { trackChild } from './cleanup.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Fail (reject) on a non-zero exit; default true. */
  check?: boolean;
}

/**
 * Runs a command asynchronously (so several installs can overlap), with a hard deadline after which
 * its whole process group is killed. Rejects with the command's output on failure.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 180_000;
  return new Promise((resolve, reject) => {
    const child = trackChild(
      spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr, ms: performance.now() - started };
      if (timedOut || (options.check !== false && code !== 0)) {
        const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code}`;
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${options.cwd}) ${why}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
          ),
        );
        return;
      }
      resolve(result);
    });
  });
}

function tail(text: string): string {
  return text.length > 4000 ? `...${text.slice(-4000)}` : text;
}
