/**
 * Fallbacks: what a failed, timed-out or rejected call answers instead of an error. A constant
 * `{ value }`, a function of the error, or the last good value kept under a cache key.
 */
import type { CacheFallback, FallbackInfo, FallbackOption } from './breaker-options.js';

/** Marks "the fallback had nothing to serve" (an empty cache key): the original error is thrown. */
export const NO_FALLBACK: unique symbol = Symbol('no fallback');

export function isCacheFallback(option: FallbackOption): option is CacheFallback {
  return typeof option === 'object' && option !== null && 'cache' in option;
}

/**
 * Produces the fallback answer, or `NO_FALLBACK` when a cache key holds nothing or the cache
 * cannot be read (the caller then gets the original error, never the cache's).
 */
export async function resolveFallback(
  option: FallbackOption,
  error: unknown,
  info: FallbackInfo,
): Promise<unknown> {
  if (typeof option === 'function') return option(error, info);
  if (isCacheFallback(option)) {
    let stale: unknown;
    try {
      stale = await option.cache.get(option.key);
    } catch {
      return NO_FALLBACK;
    }
    return stale === undefined ? NO_FALLBACK : stale;
  }
  return option.value;
}

/** With `{ cache, key, store: true }`, remembers a successful result for later fallbacks. */
export function rememberForFallback(option: FallbackOption | undefined, value: unknown): void {
  if (option === undefined || !isCacheFallback(option) || !option.store || !option.cache.set) return;
  // Storing is best effort: a cache error must never fail the call that succeeded, whether the
  // cache rejects, throws before returning a promise, or returns no promise at all.
  try {
    const stored = option.cache.set(
      option.key,
      value,
      option.ttlMs === undefined ? undefined : { ttlMs: option.ttlMs },
    );
    if (typeof (stored as Promise<unknown> | undefined)?.catch === 'function') stored.catch(() => undefined);
  } catch {
    // ignored, as above
  }
}
