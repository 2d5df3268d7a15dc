/**
 * State transitions as the breaker reports them: the named state, its clock time, the
 * `perf:breaker:state` event, and the open/closed transitions shared with other instances.
 */
import { type CircuitState, channels } from '@perf/core';
import type { CircuitState as CockatielState } from 'cockatiel';
import type { BreakerCore } from './breaker-core.js';
import { stateFromIndex } from './breaker-snapshot.js';

const stateChannel = channels.breaker.state;

const REASONS: Record<CircuitState, string> = {
  open: 'failures',
  'half-open': 'half-open timer',
  closed: 'probe succeeded',
  isolated: 'isolate',
};

/** A transition cockatiel's policy made on its own (failures, timer, probe, isolation). */
export function onPolicyState(core: BreakerCore, s: CockatielState): void {
  const to = stateFromIndex(s);
  let reason = REASONS[to];
  if (to === 'open' && core.state === 'half-open') reason = 'probe failed';
  if (to === 'closed' && core.state === 'isolated') reason = 'isolation released';
  transition(core, to, reason);
}

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
