/**
 * How breakers share open/closed transitions with other instances. A breaker given `sync`
 * attaches under its name; it publishes its own open and closed transitions and applies the ones
 * other instances publish (reason `remote`), so a fleet opens together instead of every instance
 * paying `failureThreshold` failures. `createRedisBreakerSync` implements this over Redis pub/sub.
 */

/** The transitions that are shared. */
export type SharedState = 'open' | 'closed';

export interface BreakerSyncAttachment {
  /** Tells the other instances this breaker moved to `state`. Never throws; errors are counted. */
  publish(state: SharedState): void;
  /** Stops receiving; idempotent. */
  detach(): void;
}

export interface BreakerSync {
  /**
   * Registers a breaker by name; `onRemote` runs when another instance reports a transition of a
   * breaker with the same name.
   */
  attach(name: string, onRemote: (state: SharedState) => void): BreakerSyncAttachment;
}
