/**
 * Synchronous loading of the optional OpenTelemetry peers. `setupTracing` must return a working
 * provider at once (no `await ready()`), so the SDK is `require`d, not `import()`ed: every pinned
 * OpenTelemetry package ships CommonJS, and the API keeps its state on a global symbol, so the
 * CJS copies we load and an ESM `@opentelemetry/api` the app imports share one registry.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TracingPeerMissingError } from './errors.js';

/** The versions this release is tested with; what the error message tells users to install. */
export const PEER_VERSIONS = {
  '@opentelemetry/sdk-trace-node': '2.12.1',
  '@opentelemetry/sdk-trace-base': '2.12.1',
  '@opentelemetry/resources': '2.12.1',
  '@opentelemetry/core': '2.12.1',
  '@opentelemetry/context-async-hooks': '2.12.1',
  '@opentelemetry/exporter-trace-otlp-http': '0.223.1',
  '@opentelemetry/exporter-trace-otlp-proto': '0.223.1',
  '@opentelemetry/sampler-jaeger-remote': '0.222.0',
} as const;

export type PeerName = keyof typeof PEER_VERSIONS;

/** What the SDK needs in every setup (exporters come on top, per choice). */
export const SDK_PEERS: readonly PeerName[] = [
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/resources',
  '@opentelemetry/core',
  '@opentelemetry/context-async-hooks',
];

// Resolve from this package first (where a package manager links its peers), then from the app.
const requirers = [createRequire(import.meta.url), createRequire(join(process.cwd(), 'noop.js'))];

function tryRequire(name: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  let lastError: unknown;
  for (const req of requirers) {
    try {
      return { ok: true, value: req(name) };
    } catch (error) {
      lastError = error;
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') break;
    }
  }
  return { ok: false, error: lastError };
}

/**
 * Loads every peer in `names`, or throws one `TracingPeerMissingError` that lists all the missing
 * ones (`name@version`), so a user fixes their install in one go.
 */
export function loadPeers<T extends object>(feature: string, names: readonly PeerName[]): T {
  const out: Record<string, unknown> = {};
  const missing: string[] = [];
  let cause: unknown;
  for (const name of names) {
    const r = tryRequire(name);
    if (r.ok) out[name] = r.value;
    else {
      missing.push(`${name}@${PEER_VERSIONS[name]}`);
      cause ??= r.error;
    }
  }
  if (missing.length > 0) throw new TracingPeerMissingError(feature, missing, { cause });
  return out as T;
}
