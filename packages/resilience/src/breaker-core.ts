/**
 * One breaker's working state, shared by the files that each do one part of its job (policy
 * stack, executor, execute paths, outcome classification, transitions). `ResilientCircuitBreaker`
 * is the public face and keeps this object private. It extends `BreakerCounters` so a breaker is
 * one object plus cockatiel's, not two (memory of 10,000 keyed breakers).
 */
import type { CircuitBreakerPolicy, IDefaultPolicyContext, IPolicy } from 'cockatiel';
import { BreakerCounters } from './breaker-counters.js';
import type { BreakerExecutor } from './breaker-executor.js';
import type { BreakerProfile } from './breaker-profile.js';
import type { BreakerSyncAttachment } from './breaker-sync.js';
import type { ClockHalfOpenBackoff } from './half-open-backoff.js';
import type { PolicyStack } from './policy-stack.js';

export class BreakerCore extends BreakerCounters {
  readonly name: string;
  readonly profile: BreakerProfile;
  readonly halfOpen: ClockHalfOpenBackoff;
  /** Timeout, retry and bulkhead, when any is configured (built once; they outlive policy rebuilds). */
  stack: PolicyStack | undefined = undefined;
  /** cockatiel's breaker policy; replaced by `reset()` and remote updates. */
  policy!: CircuitBreakerPolicy;
  /** The outermost policy a call enters (the breaker policy itself when nothing wraps it). */
  entry!: IPolicy<IDefaultPolicyContext>;
  /** The current policy's executor: a replaced policy's executor finds itself stale and does nothing. */
  executor: BreakerExecutor | undefined = undefined;
  sync: BreakerSyncAttachment | undefined = undefined;
  /** Set while a rebuild runs, so cockatiel's own events of the new policy are not re-published. */
  quiet = false;
  closed = false;
  /** Message of this breaker's rejections, built on the first rejection. */
  #openMessage: string | undefined = undefined;

  constructor(name: string, profile: BreakerProfile, halfOpen: ClockHalfOpenBackoff) {
    super(profile.clock.now());
    this.name = name;
    this.profile = profile;
    this.halfOpen = halfOpen;
  }

  get openMessage(): string {
    this.#openMessage ??= `Circuit breaker "${this.name}" is open: call rejected without running`;
    return this.#openMessage;
  }
}
