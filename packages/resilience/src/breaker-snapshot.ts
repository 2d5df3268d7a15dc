/**
 * The `toJSON()` / `initialState` format. It carries cockatiel's own serialized state (deep-copied:
 * cockatiel 3.2.1's Count and Sampling breakers hand out their live arrays, #113) plus what the
 * wrapper adds: the state name and when the open period started on the breaker's clock.
 */
import { type CircuitState, PerfConfigError } from '@perf/core';
import { isPlainObject } from '@perf/core/internal';

/** Which failure policy produced a snapshot; a snapshot only hydrates the same kind. */
export type BreakerKind = 'consecutive' | 'count' | 'sampling';

export interface CircuitBreakerSnapshot {
  version: 1;
  name: string;
  kind: BreakerKind;
  state: CircuitState;
  /** Clock time (ms) the last open period started; 0 when a probe may go at once. */
  openedAt: number;
  /** cockatiel's `CircuitBreakerPolicy.toJSON()`, deep-copied. */
  cockatiel: { ownState: Record<string, unknown>; breakerState: unknown };
}

const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/**
 * Validates a snapshot for a breaker of `kind` and returns a private deep copy of it.
 * @throws {PerfConfigError} naming the offending `initialState` field.
 */
export function readSnapshot(input: CircuitBreakerSnapshot, kind: BreakerKind, owner: string) {
  const bad = (field: string, reason: string, value: unknown): never => {
    throw new PerfConfigError(`initialState.${field}`, reason, value, { owner });
  };
  if (input.version !== 1) bad('version', 'must be 1', input.version);
  if (input.kind !== kind) bad('kind', `must be "${kind}" (the breaker's failure policy)`, input.kind);
  if (!STATES.includes(input.state)) bad('state', `must be one of ${STATES.join(', ')}`, input.state);
  if (typeof input.openedAt !== 'number' || !Number.isFinite(input.openedAt)) {
    bad('openedAt', 'must be a finite number', input.openedAt);
  }
  const c = input.cockatiel;
  if (!isPlainObject(c) || !isPlainObject(c.ownState)) bad('cockatiel', 'must be a cockatiel snapshot', c);
  const value = c.ownState.value;
  if (value !== 0 && value !== 1) bad('cockatiel.ownState.value', 'must be 0 (closed) or 1 (open)', value);
  const bs = c.breakerState;
  const ok =
    kind === 'consecutive'
      ? typeof bs === 'number' && Number.isSafeInteger(bs) && bs >= 0
      : kind === 'count'
        ? isPlainObject(bs) && Array.isArray(bs.samples)
        : isPlainObject(bs) && Array.isArray(bs.windows);
  if (!ok) bad('cockatiel.breakerState', `must be the state of a ${kind} breaker`, bs);
  return structuredClone(input);
}

export function stateFromIndex(index: number): CircuitState {
  return STATES[index] ?? 'closed';
}
