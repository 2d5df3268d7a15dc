/**
 * The recorded history of one soak run: every operation with its start, end and result, every
 * fault, every instance kill, and the resource and breaker samples. Times are milliseconds since
 * the run started, all taken on the harness's one clock, so "started after the ack" is comparable
 * across instances.
 */

export type OpKind = 'create' | 'write' | 'read' | 'reply';

export interface Op {
  readonly id: number;
  readonly kind: OpKind;
  /** Index of the demo instance the request went to. */
  readonly instance: number;
  readonly user: string;
  /** Conversation id (for `create`: the one it created, when acknowledged). */
  conversation: string;
  readonly start: number;
  end: number;
  /** Acknowledged: a 2xx answer. */
  ok: boolean;
  status?: number;
  /** Transport error or non-2xx body, for the violation report. */
  error?: string;
  /** write/reply: the stored message id the server acknowledged. */
  messageId?: string;
  /** read: the message ids it returned, oldest first. */
  seen?: string[];
  /** read: the page may not hold the whole history (it was full or the server said there is more). */
  truncated?: boolean;
  /** read, when truncated: the oldest message id on the page (older ones are outside it). */
  floor?: string;
  /** reply: the server answered with its fallback (upstream unavailable). */
  fallback?: boolean;
  /** reply: part of a burst of identical requests over the instances (dedup check). */
  burst?: number;
  readonly phase: string;
}

export type FaultKind =
  | 'redis-kill-restart'
  | 'redis-debug-sleep'
  | 'redis-client-pause'
  | 'cluster-failover'
  | 'cluster-master-kill'
  | 'instance-kill-restart'
  | 'upstream-down'
  | 'upstream-slow';

/** Faults that hit Redis (after which dedup and breaker sync must work again). */
export const REDIS_FAULTS: ReadonlySet<FaultKind> = new Set([
  'redis-kill-restart',
  'redis-debug-sleep',
  'redis-client-pause',
  'cluster-failover',
  'cluster-master-kill',
]);

export interface FaultEvent {
  readonly kind: FaultKind;
  readonly start: number;
  /** When the fault was lifted and the target answered again. */
  end: number;
  /** What it hit: a Redis port, an instance index, the upstream. */
  readonly target: string;
}

/** A demo instance SIGKILLed at `at`: only requests in flight on it then may fail. */
export interface InstanceKill {
  readonly instance: number;
  readonly at: number;
  /** When the restarted instance answered /healthz again. */
  restartedAt?: number;
}

/** A demo instance that exited without the harness killing it. */
export interface InstanceCrash {
  readonly instance: number;
  readonly at: number;
  readonly exit: string;
}

export interface ResourceSample {
  readonly t: number;
  readonly instance: number;
  /** Incremented on every restart: a fresh process starts its series anew. */
  readonly incarnation: number;
  readonly rssBytes?: number;
  readonly loopLagP99Ms?: number;
  /** How long the instance took to answer GET /healthz (its event loop, seen from outside). */
  readonly healthzMs?: number;
  /** Open file descriptors over the process group (sockets included), from /proc. */
  readonly fds?: number;
  readonly timers?: number;
  readonly pendingResync?: number;
}

export interface RedisSample {
  readonly t: number;
  /** Sum of connected_clients over the private Redis servers that answered. */
  readonly connections: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface BreakerSample {
  readonly t: number;
  readonly instance: number;
  /** Breaker name -> state, as the instance's /metrics reports it. */
  readonly states: Readonly<Record<string, BreakerState>>;
}

export interface History {
  readonly instances: number;
  readonly ops: Op[];
  readonly faults: FaultEvent[];
  readonly kills: InstanceKill[];
  readonly crashes: InstanceCrash[];
  readonly resources: ResourceSample[];
  readonly redis: RedisSample[];
  readonly breakers: BreakerSample[];
  /** What the instances' /metrics could not show (metric absent), by resource name. */
  readonly unobservable: string[];
  /** Phases by name with their start time (ms), in order. */
  readonly phases: { name: string; start: number }[];
  /** End of the run (ms). */
  end: number;
}

export function emptyHistory(instances: number): History {
  return {
    instances,
    ops: [],
    faults: [],
    kills: [],
    crashes: [],
    resources: [],
    redis: [],
    breakers: [],
    unobservable: [],
    phases: [],
    end: 0,
  };
}
