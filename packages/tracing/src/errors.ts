/**
 * Errors of @perf/tracing. Option mistakes are `PerfConfigError` (from @perf/core, naming the field);
 * the two failures specific to setting up an SDK get their own stable codes and guards.
 */
import { isPerfError, PerfError } from '@perf/core';

/** Stable codes of the errors this package adds; never renamed once published. */
export const TracingErrorCodes = {
  peerMissing: 'ERR_PERF_TRACING_PEER_MISSING',
  alreadySetUp: 'ERR_PERF_TRACING_ALREADY_SET_UP',
} as const;

/**
 * An optional peer dependency that the requested feature needs is not installed.
 * `packages` lists exactly what to install (with the versions this release is tested with).
 */
export class TracingPeerMissingError extends PerfError {
  readonly packages: readonly string[];

  constructor(feature: string, packages: readonly string[], options?: { cause?: unknown }) {
    super(
      TracingErrorCodes.peerMissing,
      `@perf/tracing: ${feature} needs ${packages.join(', ')}; install ${packages.length === 1 ? 'it' : 'them'}: npm i ${packages.join(' ')}`,
      options,
    );
    this.packages = packages;
  }
}

/** `setupTracing` was called while a provider (ours or another) is already registered. */
export class TracingAlreadySetUpError extends PerfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(TracingErrorCodes.alreadySetUp, message, options);
  }
}

/** True for a `TracingPeerMissingError` from any copy of this package. */
export function isTracingPeerMissingError(error: unknown): error is TracingPeerMissingError {
  return isPerfError(error) && error.code === TracingErrorCodes.peerMissing;
}

/** True for a `TracingAlreadySetUpError` from any copy of this package. */
export function isTracingAlreadySetUpError(error: unknown): error is TracingAlreadySetUpError {
  return isPerfError(error) && error.code === TracingErrorCodes.alreadySetUp;
}
