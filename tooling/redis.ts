import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer, Socket } from 'node:net';

/** Where integration tests find Redis; they use key prefixes they own and clean up. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Answers whether a Redis server on `host:port` replies PONG within `timeoutMs`. */
export function pingRedis(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** Answers whether a Redis server replies PONG at REDIS_URL within `timeoutMs`. */
export function redisAnswers(timeoutMs = 500): Promise<boolean> {
  const url = new URL(REDIS_URL);
  return pingRedis(Number(url.port || 6379), url.hostname, timeoutMs);
}

/**
 * For `describe.skipIf(!(await redisAvailable()))`: outside CI, integration tests skip when no
 * Redis runs; under CI=true a missing Redis is a failure, never a silent skip.
 */
export async function redisAvailable(): Promise<boolean> {
  const ok = await redisAnswers();
  if (!ok && process.env.CI === 'true') {
    throw new Error(
      `CI=true but Redis does not answer at ${REDIS_URL}: integration tests must not skip in CI`,
    );
  }
  return ok;
}

/** A TCP port nobody listens on right now (the OS picks it), e.g. for a private redis-server started later. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private, throw-away redis-server for outage tests and benchmarks: no persistence, on a port the
 * calling package owns (cache 6390-6399, dedup 6400-6409, resilience 6410-6419), killed by whoever
 * started it.
 */
export class PrivateRedis {
  readonly port: number;
  readonly #args: readonly string[];
  #process: ChildProcess | undefined;

  /** `args`: extra redis-server arguments (e.g. cluster mode). */
  constructor(port: number, args: readonly string[] = []) {
    this.port = port;
    this.#args = args;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits (at most 10 s) until it answers PING. */
  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    this.#process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.#args],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (!(await pingRedis(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 20));
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

/** Polls `check` until it returns true or `timeoutMs` passes; resolves to how long it took. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}
