/**
 * The standard `OTEL_*` environment variables this package reads. Explicit options win over them;
 * a bad value is a `PerfConfigError` whose field is `env.<NAME>`.
 */
import { PerfConfigError } from '@perf/core';

const owner = 'setupTracing';

/** Reads a variable; empty counts as unset (as the OpenTelemetry spec says). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

export function envFail(name: string, reason: string, value: unknown): never {
  throw new PerfConfigError(`env.${name}`, reason, value, { owner });
}

/** `true`/`false` (any case), else an error. */
export function envBoolean(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = envValue(env, name);
  if (v === undefined) return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return envFail(name, 'must be true or false', v);
}

/** `key=value,key2=value2` with percent-encoded values (the OTLP headers format). */
export function envHeaders(env: NodeJS.ProcessEnv, name: string): Record<string, string> | undefined {
  const v = envValue(env, name);
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) envFail(name, 'must be a list of key=value pairs separated by commas', v);
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      envFail(name, 'must be percent-encoded key=value pairs', v);
    }
  }
  return out;
}

/** An http(s) URL, else an error naming the variable. */
export function envUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = envValue(env, name);
  if (v === undefined) return undefined;
  if (!URL.canParse(v) || !/^https?:$/.test(new URL(v).protocol)) envFail(name, 'must be an http(s) URL', v);
  return v;
}

/** Where traces go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
export function envTracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const traces = envUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (traces) return traces;
  const base = envUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** A key=value list such as `OTEL_TRACES_SAMPLER_ARG=endpoint=...,pollingIntervalMs=5000`. */
export function parseKeyValues(name: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) envFail(name, 'must be key=value pairs separated by commas', value);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
