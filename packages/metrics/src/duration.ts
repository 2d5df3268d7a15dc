/**
 * Durations in options and rule files: a number of milliseconds, or a Prometheus-style string
 * such as `30s`, `5m`, `1h30m` (the same units the exported rule YAML uses).
 */
import { type Check, PerfConfigError } from '@perf/core';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+)(ms|s|m|h|d)/y;

/**
 * Parses `5m`, `30s`, `1h30m`, `250ms` or a non-negative number of milliseconds.
 * @throws {PerfConfigError} when the value is neither.
 */
export function parseDuration(value: unknown, field = 'duration'): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string' && value.length > 0) {
    PART.lastIndex = 0;
    let total = 0;
    while (PART.lastIndex < value.length) {
      const start = PART.lastIndex;
      const m = PART.exec(value);
      if (!m || m.index !== start) throw durationError(field, value);
      total += Number(m[1]) * UNITS[m[2]!]!;
    }
    return total;
  }
  throw durationError(field, value);
}

function durationError(field: string, value: unknown): PerfConfigError {
  return new PerfConfigError(field, 'must be a duration (milliseconds, or e.g. "30s", "5m", "1h")', value);
}

/** An options check that accepts what `parseDuration` accepts and returns milliseconds. */
export const durationCheck: Check<number> = (value, ctx) => {
  try {
    return parseDuration(value, ctx.field);
  } catch (error) {
    throw new PerfConfigError(ctx.field, (error as PerfConfigError).reason, value, { owner: ctx.owner });
  }
};

/** Formats milliseconds the way Prometheus rule files write durations (`90s` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
