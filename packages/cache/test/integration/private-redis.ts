/**
 * A private, throw-away redis-server for outage tests (ports 6390-6399 belong to @perf/cache's
 * tests): no persistence, killed by the test that started it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';

export class PrivateRedis {
  readonly port: number;
  #process: ChildProcess | undefined;

  /** Extra redis-server arguments (e.g. cluster mode). */
  readonly #args: readonly string[];

  constructor(port: number, args: readonly string[] = []) {
    this.#args = args;
    if (port < 6390 || port > 6399) throw new Error('private Redis ports are 6390-6399');
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it answers PING. */
  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    this.#process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.#args],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Kills the server (SIGKILL: an abrupt outage) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#process = undefined;
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open, commands hang. */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  resume(): void {
    this.#process?.kill('SIGCONT');
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves to how long it took. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}
