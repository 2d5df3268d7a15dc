/**
 * Typed errors shared by every @perf package.
 *
 * Guards (`isPerfError`, `isPerfConfigError`, ...) check a registry-wide symbol marker and the
 * stable `code`, not `instanceof` alone, so they keep working when two copies of @perf/core end
 * up in one process (duplicate installs, ESM and CJS side by side).
 */

const PERF_ERROR = Symbol.for('@perf/core/error');

/** Stable machine-readable codes; never renamed once published. */
export const ErrorCodes = {
  config: 'ERR_PERF_CONFIG',
  timeout: 'ERR_PERF_TIMEOUT',
  aborted: 'ERR_PERF_ABORTED',
  key: 'ERR_PERF_KEY',
  serialization: 'ERR_PERF_SERIALIZATION',
  brokenCircuit: 'ERR_PERF_BROKEN_CIRCUIT',
  isolatedCircuit: 'ERR_PERF_ISOLATED_CIRCUIT',
  bulkheadRejected: 'ERR_PERF_BULKHEAD_REJECTED',
  closed: 'ERR_PERF_CLOSED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error thrown by @perf packages. */
export class PerfError extends Error {
  /** Stable identifier of the failure kind, e.g. `ERR_PERF_CONFIG`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

// On the prototype, not each instance: errors built on hot paths (breaker rejections) stay cheap.
Object.defineProperty(PerfError.prototype, PERF_ERROR, { value: true });

/**
 * An option or argument was invalid. `field` names it (dotted for nested options, e.g.
 * `l1.maxEntries`); `reason` says what was expected; `received` is the offending value.
 */
export class PerfConfigError extends PerfError {
  readonly field: string;
  readonly reason: string;
  readonly received: unknown;

  constructor(
    field: string,
    reason: string,
    received: unknown,
    options?: { owner?: string; cause?: unknown },
  ) {
    const owner = options?.owner ? `${options.owner}: ` : '';
    super(ErrorCodes.config, `${owner}${field} ${reason}, got ${describeValue(received)}`, options);
    this.field = field;
    this.reason = reason;
    this.received = received;
  }
}

/** An operation took longer than its bound. */
export class PerfTimeoutError extends PerfError {
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(ErrorCodes.timeout, message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired; `cause` carries the signal's reason. */
export class PerfAbortError extends PerfError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(ErrorCodes.aborted, message, options);
  }
}

/** A value could not be turned into a key (cycle, symbol, function, too deep, too large). */
export class PerfKeyError extends PerfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.key, message, options);
  }
}

/** A value could not be serialized or deserialized; nothing was written. */
export class PerfSerializationError extends PerfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.serialization, message, options);
  }
}

/** A circuit breaker is open and rejected the call without running it. */
export class BrokenCircuitError extends PerfError {
  constructor(
    message = 'Execution prevented because the circuit breaker is open',
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.brokenCircuit, message, options);
  }
}

/** A circuit breaker was isolated by hand and rejected the call without running it. */
export class IsolatedCircuitError extends PerfError {
  constructor(
    message = 'Execution prevented because the circuit breaker is isolated',
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.isolatedCircuit, message, options);
  }
}

/** A bulkhead had no free slot and no room in its queue. */
export class BulkheadRejectedError extends PerfError {
  constructor(message = 'Bulkhead capacity exceeded', options?: { cause?: unknown }) {
    super(ErrorCodes.bulkheadRejected, message, options);
  }
}

/** The instance was closed; no further calls are accepted. */
export class PerfClosedError extends PerfError {
  constructor(message = 'The instance is closed', options?: { cause?: unknown }) {
    super(ErrorCodes.closed, message, options);
  }
}

/** True for any error thrown by a @perf package, from any copy of @perf/core. */
export function isPerfError(error: unknown): error is PerfError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[PERF_ERROR] === true &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

function hasCode<T extends PerfError>(code: string) {
  return (error: unknown): error is T => isPerfError(error) && error.code === code;
}

export const isPerfConfigError = hasCode<PerfConfigError>(ErrorCodes.config);
export const isPerfTimeoutError = hasCode<PerfTimeoutError>(ErrorCodes.timeout);
export const isPerfAbortError = hasCode<PerfAbortError>(ErrorCodes.aborted);
export const isPerfKeyError = hasCode<PerfKeyError>(ErrorCodes.key);
export const isPerfSerializationError = hasCode<PerfSerializationError>(ErrorCodes.serialization);
export const isBrokenCircuitError = hasCode<BrokenCircuitError>(ErrorCodes.brokenCircuit);
export const isIsolatedCircuitError = hasCode<IsolatedCircuitError>(ErrorCodes.isolatedCircuit);
export const isBulkheadRejectedError = hasCode<BulkheadRejectedError>(ErrorCodes.bulkheadRejected);
export const isPerfClosedError = hasCode<PerfClosedError>(ErrorCodes.closed);

/** A short, safe rendering of any value for error messages (never throws, never huge). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > 60
        ? `${JSON.stringify(value.slice(0, 57))}... (${value.length} chars)`
        : JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
    default: {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `array(${value.length})`;
      const ctor = (value as object).constructor;
      return typeof ctor === 'function' && ctor.name && ctor.name !== 'Object'
        ? `${ctor.name} instance`
        : 'object';
    }
  }
}
