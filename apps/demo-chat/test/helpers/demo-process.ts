/**
 * Starts the built demo (`dist/main.js`, what `pnpm demo` runs) as a real child process and talks
 * to it over HTTP, the way a user would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface DemoProcess {
  url: string;
  child: ChildProcess;
  logs: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function startDemoProcess(
  env: Record<string, string> = {},
  timeoutMs = 50_000,
): Promise<DemoProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      DEMO_REQUEST_LOGS: 'off',
      DEMO_SEED_CONVERSATIONS: '500',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let url: string | undefined;
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (logs.length < 5000) logs.push(line);
      if (url === undefined && line.includes('"demo listening"'))
        url = (JSON.parse(line) as { url: string }).url;
      nl = buffered.indexOf('\n');
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (url === undefined) {
    if (child.exitCode !== null) throw new Error(`demo exited early:\n${logs.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`demo did not listen within ${timeoutMs} ms:\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const demo: DemoProcess = {
    url,
    child,
    logs,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
  while (
    (await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (child.exitCode !== null) throw new Error(`demo exited before ready:\n${logs.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`demo not ready within ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return demo;
}

/** JSON over HTTP as user `userId`. */
export async function api(
  base: string,
  method: string,
  path: string,
  userId: string | undefined,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answered
): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(userId ? { 'x-user-id': userId } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, ms: performance.now() - started };
}

/** Counts of history reads by where they were answered, from the demo's own /metrics. */
export async function historyReadCounts(base: string, prefix = 'demo-chat'): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  const re = new RegExp(
    `^perf_cache_operation_duration_seconds_count\\{([^}]*namespace="${prefix.replace(/\./g, '\\.')}\\.history"[^}]*)\\} (\\S+)$`,
    'gm',
  );
  for (const m of text.matchAll(re)) {
    const labels = m[1]!;
    if (!labels.includes('operation="getOrSet"')) continue;
    const result = /result="([^"]*)"/.exec(labels)?.[1] ?? 'none';
    out[result] = (out[result] ?? 0) + Number(m[2]);
  }
  return out;
}

export function hitRatio(
  before: Record<string, number>,
  after: Record<string, number>,
): { ratio: number; reads: number; byResult: Record<string, number> } {
  const byResult: Record<string, number> = {};
  let reads = 0;
  let hits = 0;
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    byResult[k] = d;
    reads += d;
    if (k === 'l1' || k === 'l2' || k === 'l3') hits += d;
  }
  return { ratio: reads === 0 ? 0 : hits / reads, reads, byResult };
}
