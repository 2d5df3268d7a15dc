import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { sleep, until } from './ports.js';

export interface DemoInstanceOptions {
  readonly index: number;
  readonly port: number;
  /** argv that starts one long-running demo server (reads PORT, DATABASE_URL, REDIS_URL, ...). */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Its stdout and stderr go here, appended across restarts. */
  readonly logFile: string;
  readonly readyTimeoutMs?: number;
}

/**
 * One demo-chat server as its own OS process group, so SIGKILL takes the server and any wrapper
 * (pnpm) at once and nothing survives the harness.
 */
export class DemoInstance {
  readonly index: number;
  readonly port: number;
  incarnation = -1;
  /** False from the moment the harness decides to kill it until it answers /readyz again. */
  up = false;
  /** Called when the process exits without the harness having killed it. */
  onSpawn: ((pid: number) => void) | undefined;
  onCrash: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  readonly #options: DemoInstanceOptions;
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #expectExit = false;

  constructor(options: DemoInstanceOptions) {
    this.#options = options;
    this.index = options.index;
    this.port = options.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process and waits until /readyz answers 200. */
  async start(): Promise<void> {
    const o = this.#options;
    this.#log ??= createWriteStream(o.logFile, { flags: 'a' });
    this.incarnation++;
    this.#expectExit = false;
    this.#log.write(`\n--- soak: start incarnation ${this.incarnation} on port ${this.port}\n`);
    const [file, ...args] = o.command;
    const child = spawn(file!, args, {
      cwd: o.cwd,
      env: { ...process.env, ...o.env, PORT: String(this.port), HOST: '127.0.0.1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    if (child.pid !== undefined) this.onSpawn?.(child.pid);
    child.stdout!.pipe(this.#log, { end: false });
    child.stderr!.pipe(this.#log, { end: false });
    let gone = false;
    const exit = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => {
        gone = true;
        if (!this.#expectExit) {
          this.up = false;
          this.onCrash?.(code, signal);
        }
        resolve(signal ?? `code ${code}`);
      }),
    );
    let ready = false;
    const readiness = until(
      `demo instance ${this.index} ready on ${this.url} (log: ${o.logFile})`,
      async () => {
        if (gone) return true; // stop polling: `failed` reports it
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.body?.cancel();
        return res.ok;
      },
      o.readyTimeoutMs ?? 90_000,
      100,
    ).then(() => {
      ready = !gone;
    });
    const failed = exit.then((how) => {
      if (!ready)
        throw new Error(`demo instance ${this.index} exited while starting (${how}; log: ${o.logFile})`);
    });
    failed.catch(() => {}); // after readiness, an exit is a crash (onCrash), not this promise's business
    await Promise.race([readiness, failed]);
    this.up = true;
  }

  /** SIGKILL to the whole process group; resolves when the process is gone. */
  async kill(): Promise<void> {
    this.up = false;
    await this.#signalAndWait('SIGKILL', 5_000);
  }

  /** SIGTERM (graceful drain), then SIGKILL after `graceMs`; never throws. */
  async stop(graceMs = 10_000): Promise<void> {
    this.up = false;
    await this.#signalAndWait('SIGTERM', graceMs);
    await this.#signalAndWait('SIGKILL', 5_000);
    this.#log?.end();
    this.#log = undefined;
  }

  /**
   * Resident memory and open file descriptors of every process in the group (the server and any
   * wrapper), from /proc.
   */
  processStats(): { rssBytes: number; fds: number } | undefined {
    const pgid = this.#child?.pid;
    if (pgid === undefined || this.#child?.exitCode !== null) return undefined;
    let total = 0;
    let fds = 0;
    let found = false;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(join('/proc', entry, 'stat'), 'utf8');
        // Fields after the parenthesised command: state ppid pgrp ...; rss (pages) is field 24.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) !== pgid) continue;
        total += Number(fields[21]) * 4096;
        fds += readdirSync(join('/proc', entry, 'fd')).length;
        found = true;
      } catch {
        // the process went away between readdir and read
      }
    }
    return found ? { rssBytes: total, fds } : undefined;
  }

  async #signalAndWait(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.pid === undefined) return;
    this.#expectExit = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
      await Promise.race([exited, sleep(timeoutMs)]);
    }
    // The group may outlive its leader (a wrapper's child): make sure nothing of it is left.
    if (signal === 'SIGKILL') {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // no such group: all gone
      }
    }
  }
}
