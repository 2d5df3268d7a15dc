import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackChild } from './cleanup.js';

export interface LocalRegistry {
  url: string;
  /** The verdaccio process (the leader of its own process group). */
  pid: number;
  /** An npmrc for publishing: `@perf` resolves here, with a token of a user created on start. */
  publishNpmrc: string;
  stop(): Promise<void>;
}

const here = fileURLToPath(new URL('..', import.meta.url));

/**
 * Verdaccio (the version pinned in this package) in a child process on 127.0.0.1, port chosen by
 * the OS, storage in `dir`. `@perf/*` is served only from its own storage (no proxy: a package
 * that was not published here is a 404, never npmjs's); everything else goes through the npmjs uplink.
 */
export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  const storage = join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    [
      `storage: ${JSON.stringify(storage)}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      'uplinks:',
      '  npmjs:',
      '    url: https://registry.npmjs.org/',
      '    timeout: 60s',
      'packages:',
      "  '@perf/*':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'log: { type: stdout, format: json, level: warn }',
      '',
    ].join('\n'),
  );

  // runServer() gives the http server before it listens, so it can take port 0 (no free-port race).
  const launcher = `
    const { runServer } = require('verdaccio');
    runServer(process.argv[1]).then((app) => {
      const server = app.listen(0, '127.0.0.1', () => console.log('PERF_REGISTRY_PORT=' + server.address().port));
    }, (error) => { console.error(error); process.exit(1); });
  `;
  const child = trackChild(
    spawn(process.execPath, ['-e', launcher, configPath], {
      cwd: here,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`verdaccio did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /PERF_REGISTRY_PORT=(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`verdaccio exited with ${code}:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}/`;

  // A user for publishing (what `npm adduser` does).
  const response = await fetch(`${url}-/user/org.couchdb.user:perf-release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'perf-release',
      password: 'perf-release-local',
      email: 'release@perf.invalid',
    }),
  });
  const { token } = (await response.json()) as { token?: string };
  if (!response.ok || !token) throw new Error(`verdaccio refused the publish user: ${response.status}`);
  const publishNpmrc = join(dir, 'publish.npmrc');
  writeFileSync(publishNpmrc, `@perf:registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);

  return {
    url,
    pid: child.pid ?? 0,
    publishNpmrc,
    stop: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
