/**
 * The resource every span carries: service name/version/instance id, host and process
 * attributes, `OTEL_RESOURCE_ATTRIBUTES`, then the user's own (which win). Built synchronously
 * (the SDK's host detector reads the machine id asynchronously, which would make every export
 * wait for it), so it is complete before the first span.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AttributeValue } from '@opentelemetry/api';

export interface ResourceInput {
  serviceName: string;
  serviceVersion: string | undefined;
  attributes: Record<string, AttributeValue>;
}

const ARCH: Record<string, string> = { arm: 'arm32', ppc: 'ppc32', x64: 'amd64' };

/** `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs, percent-encoded; malformed pairs are skipped, as the spec says. */
function fromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // skip a malformed pair
    }
  }
  return out;
}

export function resourceAttributes(
  input: ResourceInput,
  env: NodeJS.ProcessEnv,
): Record<string, AttributeValue> {
  const attrs: Record<string, AttributeValue> = {
    'service.instance.id': randomUUID(),
    'host.name': os.hostname(),
    'host.arch': ARCH[os.arch()] ?? os.arch(),
    'os.type': process.platform === 'win32' ? 'windows' : process.platform,
    'process.pid': process.pid,
    'process.executable.name': process.title,
    'process.executable.path': process.execPath,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
    'telemetry.sdk.language': 'nodejs',
    ...fromEnv(env),
    ...input.attributes,
    'service.name': input.serviceName,
  };
  if (input.serviceVersion !== undefined) attrs['service.version'] = input.serviceVersion;
  return attrs;
}
