/**
 * Correlation ids: one id per request, kept in an AsyncLocalStorage so every await, timer,
 * stream and event emitter callback of that request sees it, without any OpenTelemetry SDK.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { PerfConfigError } from '@perf/core';

/** Headers an incoming id is taken from, in order. */
export const CORRELATION_HEADERS = ['x-correlation-id', 'x-request-id'] as const;

/** The header outbound requests and responses carry. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Span attribute holding the correlation id. */
export const CORRELATION_ATTRIBUTE = 'perf.correlation_id';

/** Longest id accepted from a client (a longer one is replaced by a fresh id). */
export const MAX_CORRELATION_ID_LENGTH = 128;

// Letters, digits and the separators UUIDs, ULIDs, AWS/GCP trace ids and Heroku request ids use;
// nothing that could split a log line or a header (no spaces, quotes, control characters).
// (A char-table loop measured slower than this regex on Node 20; `test` allocates nothing.)
const VALID_ID = /^[A-Za-z0-9._:\-/+=@]+$/;

const storage = new AsyncLocalStorage<string>();

/** True when `id` may be used as a correlation id: 1-128 chars of `[A-Za-z0-9._:-/+=@]`. */
export function isValidCorrelationId(id: unknown): id is string {
  return (
    typeof id === 'string' && id.length > 0 && id.length <= MAX_CORRELATION_ID_LENGTH && VALID_ID.test(id)
  );
}

/** A fresh random id (UUID v4). */
export function createCorrelationId(): string {
  return randomUUID();
}

/** The correlation id of the current async context, or undefined outside any. */
export function correlationId(): string | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` with `id` as the correlation id of everything it starts (awaits, timers, emitters).
 * Returns what `fn` returns (a promise stays a promise).
 * @throws {PerfConfigError} when `id` is not a valid correlation id or `fn` is not a function.
 */
export function withCorrelation<R>(id: string, fn: () => R): R {
  if (!isValidCorrelationId(id)) {
    throw new PerfConfigError(
      'id',
      `must be 1-${MAX_CORRELATION_ID_LENGTH} characters of letters, digits and ._:-/+=@`,
      id,
      { owner: 'withCorrelation' },
    );
  }
  if (typeof fn !== 'function') {
    throw new PerfConfigError('fn', 'must be a function', fn, { owner: 'withCorrelation' });
  }
  return storage.run(id, fn);
}

/** The id from the first of `CORRELATION_HEADERS` present and valid, else undefined. */
export function correlationIdFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  names: readonly string[] = CORRELATION_HEADERS,
): string | undefined {
  for (let i = 0; i < names.length; i++) {
    const raw = headers[names[i]!];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (isValidCorrelationId(value)) return value;
  }
  return undefined;
}

/** `withCorrelation` without the checks, for ids this package already validated. */
export function runWithCorrelation<R>(id: string, fn: () => R): R {
  return storage.run(id, fn);
}
