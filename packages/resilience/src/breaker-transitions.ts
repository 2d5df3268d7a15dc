/**
 * State transitions as the breaker reports them: the named state, its clock time, the
 * `perf:breaker:state` event, and the open/closed transitions shared with other instances.
 */
import { type CircuitState, channels } from '@perf/core';
import type { BreakerCore } from './breaker-core.js';

const stateChannel = channels.breaker.state;

/** Moves `core` to `to`; `remote` transitions came from another instance and are not re-shared. */
export function transition(core: BreakerCore, to: CircuitState, reason: string, remote = false): void {
  const from = core.state;
  if (from === to) return;
  core.state = to;
  core.stateSince = core.profile.clock.now();
  core.transitions++;
  if (stateChannel.hasSubscribers) stateChannel.publish({ name: core.name, from, to, reason });
  if (!remote && core.sync !== undefined && (to === 'open' || to === 'closed')) core.sync.publish(to);
}
