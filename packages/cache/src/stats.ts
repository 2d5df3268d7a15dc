/** Plain counters behind `stats()`: an integer increment each, no observer needed. */
import type { CacheStats, CacheTier, CacheTierStats } from '@perf/core';

export class TierCounters {
  hits = 0;
  misses = 0;
  sets = 0;
  deletes = 0;
  errors = 0;

  snapshot(): CacheTierStats {
    const reads = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      sets: this.sets,
      deletes: this.deletes,
      errors: this.errors,
      hitRate: reads === 0 ? 0 : this.hits / reads,
    };
  }
}

/** Counters of one cache (shared by its scopes). */
export class CacheCounters {
  readonly l1 = new TierCounters();
  readonly l2 = new TierCounters();
  readonly l3 = new TierCounters();
  hits = 0;
  misses = 0;
  sets = 0;
  deletes = 0;
  staleServed = 0;
  factoryRuns = 0;
  factoryErrors = 0;
  errors = 0;
  corruptReads = 0;
  busMessagesSent = 0;
  busMessagesReceived = 0;
  lockAcquired = 0;
  lockWaitTimeouts = 0;
  resyncs = 0;
  eagerRefreshes = 0;

  snapshot(tiers: readonly CacheTier[]): TieredCacheStats {
    const reads = this.hits + this.misses;
    const perTier: Partial<Record<CacheTier, CacheTierStats>> = {};
    for (const tier of tiers) perTier[tier] = this[tier].snapshot();
    return {
      tiers: perTier,
      hits: this.hits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : this.hits / reads,
      sets: this.sets,
      deletes: this.deletes,
      staleServed: this.staleServed,
      factoryRuns: this.factoryRuns,
      factoryErrors: this.factoryErrors,
      errors: this.errors,
      corruptReads: this.corruptReads,
      busMessagesSent: this.busMessagesSent,
      busMessagesReceived: this.busMessagesReceived,
      lockAcquired: this.lockAcquired,
      lockWaitTimeouts: this.lockWaitTimeouts,
      resyncs: this.resyncs,
      eagerRefreshes: this.eagerRefreshes,
    };
  }
}

/** `CacheStats` plus what only the tiered cache knows. */
export interface TieredCacheStats extends CacheStats {
  /** `getOrSet({ lock: true })` calls that won the cross-instance lock. */
  lockAcquired: number;
  /** Lock waits that ran out, after which the caller ran the factory itself. */
  lockWaitTimeouts: number;
  /** Completed re-syncs: Redis or the bus came back, missed writes were replayed, L1/L2 dropped. */
  resyncs: number;
  /** Background refreshes started by eager refresh. */
  eagerRefreshes: number;
}
