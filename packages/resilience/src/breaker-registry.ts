/**
 * Keyed breaker families: one breaker per upstream (provider, region, model ...) from a bounded
 * registry. The registry keeps at most `maxBreakers`; past that it evicts the least recently used
 * breaker, preferring a closed one, so per-key breakers can never grow memory without bound.
 */
import { PerfClosedError, PerfConfigError, PerfKeyError } from '@perf/core';
import { checkOptions, is, optional, withDefault } from '@perf/core/internal';
import {
  type CheckedBreakerOptions,
  type CircuitBreakerOptions,
  checkBreakerOptions,
  syncCheck,
} from './breaker-options.js';
import type { BreakerSync } from './breaker-sync.js';
import {
  createKeyedBreaker,
  type ResilienceStats,
  ResilientCircuitBreaker,
} from './resilient-circuit-breaker.js';

/** Options every breaker of a registry shares (their names come from the registry). */
export type BreakerDefaults = Omit<CircuitBreakerOptions, 'name' | 'initialState' | 'sync'>;

export interface BreakerRegistryOptions {
  /** Prefix of every breaker's name: `<name>:<key>`. Default `'breakers'`. */
  name?: string;
  /** Most breakers kept at once. Default 1,000. */
  maxBreakers?: number;
  /** Options for every breaker. */
  defaults?: BreakerDefaults;
  /** Per-key options merged over `defaults` (e.g. a longer timeout for one provider). */
  optionsFor?: (key: string) => BreakerDefaults | undefined;
  /** Shares each breaker's open/closed transitions with other instances. */
  sync?: BreakerSync;
}

export interface BreakerRegistryStats {
  size: number;
  maxBreakers: number;
  created: number;
  evicted: number;
  /** How many breakers are in each state right now. */
  states: Record<'closed' | 'open' | 'half-open' | 'isolated', number>;
}

/** How far from the least recently used end eviction looks for a closed breaker. */
const EVICTION_SCAN = 16;
const MAX_KEY_LENGTH = 512;

export class BreakerRegistry {
  readonly name: string;
  readonly #max: number;
  readonly #defaults: BreakerDefaults;
  readonly #checkedDefaults: CheckedBreakerOptions;
  readonly #optionsFor: ((key: string) => BreakerDefaults | undefined) | undefined;
  readonly #sync: BreakerSync | undefined;
  /** Insertion order is recency order: a hit moves the key to the end. */
  readonly #breakers = new Map<string, ResilientCircuitBreaker>();
  #created = 0;
  #evicted = 0;
  #closed = false;

  /** @throws {PerfConfigError} naming the first invalid option (defaults included). */
  constructor(options?: BreakerRegistryOptions) {
    const o = checkOptions('createBreakerRegistry', options, {
      name: withDefault(is.nonEmptyString, 'breakers'),
      maxBreakers: withDefault(is.positiveInteger, 1000),
      defaults: withDefault(is.plainObject, {}),
      optionsFor: optional(is.function),
      sync: optional(syncCheck),
    });
    for (const banned of ['name', 'initialState', 'sync'] as const) {
      if (Object.hasOwn(o.defaults, banned)) {
        throw new PerfConfigError(
          `defaults.${banned}`,
          'is set by the registry, not per default',
          o.defaults[banned],
          {
            owner: 'createBreakerRegistry',
          },
        );
      }
    }
    // A cache fallback in the shared defaults would serve one upstream's last good value for another's.
    const sharedFallback = o.defaults.fallback as { cache?: unknown; key?: unknown } | undefined;
    if (typeof sharedFallback === 'object' && sharedFallback !== null && 'cache' in sharedFallback) {
      throw new PerfConfigError(
        'defaults.fallback',
        'must not be a cache fallback: its one key would be shared by every keyed breaker (give each key its own with optionsFor)',
        sharedFallback,
        { owner: 'createBreakerRegistry' },
      );
    }
    // Validate the shared options once, up front; breakers without per-key overrides share them.
    this.#checkedDefaults = checkBreakerOptions(o.defaults, 'createBreakerRegistry defaults');
    this.name = o.name;
    this.#max = o.maxBreakers;
    this.#defaults = o.defaults as BreakerDefaults;
    this.#optionsFor = o.optionsFor as ((key: string) => BreakerDefaults | undefined) | undefined;
    this.#sync = o.sync;
  }

  /**
   * The breaker for `key`, created on first use.
   * @throws {PerfKeyError} when `key` is not a non-empty string of at most 512 characters.
   * @throws {PerfConfigError} when `optionsFor(key)` returns invalid options.
   * @throws {PerfClosedError} after `close()`.
   */
  get(key: string): ResilientCircuitBreaker {
    const found = this.#breakers.get(key);
    if (found !== undefined) {
      this.#breakers.delete(key);
      this.#breakers.set(key, found);
      return found;
    }
    if (this.#closed) throw new PerfClosedError(`Breaker registry "${this.name}" is closed`);
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new PerfKeyError(
        `Breaker registry "${this.name}": key must be a string of 1..${MAX_KEY_LENGTH} characters`,
      );
    }
    const overrides = this.#optionsFor?.(key);
    const name = `${this.name}:${key}`;
    const breaker =
      overrides === undefined
        ? createKeyedBreaker(this.#checkedDefaults, name, this.#sync)
        : new ResilientCircuitBreaker({
            ...this.#defaults,
            ...overrides,
            name,
            ...(this.#sync === undefined ? {} : { sync: this.#sync }),
          });
    if (this.#breakers.size >= this.#max) this.#evictOne();
    this.#breakers.set(key, breaker);
    this.#created++;
    return breaker;
  }

  /** True when a breaker exists for `key` (does not touch its recency). */
  has(key: string): boolean {
    return this.#breakers.has(key);
  }

  /** Closes and forgets the breaker for `key`; true when there was one. */
  delete(key: string): boolean {
    const breaker = this.#breakers.get(key);
    if (breaker === undefined) return false;
    this.#breakers.delete(key);
    breaker.close();
    return true;
  }

  get size(): number {
    return this.#breakers.size;
  }

  /** The keys, least recently used first. */
  keys(): string[] {
    return [...this.#breakers.keys()];
  }

  /** Stats of every breaker, by key. */
  breakerStats(): Record<string, ResilienceStats> {
    const out: Record<string, ResilienceStats> = {};
    for (const [key, breaker] of this.#breakers) out[key] = breaker.stats();
    return out;
  }

  stats(): BreakerRegistryStats {
    const states = { closed: 0, open: 0, 'half-open': 0, isolated: 0 };
    for (const breaker of this.#breakers.values()) states[breaker.state]++;
    return {
      size: this.#breakers.size,
      maxBreakers: this.#max,
      created: this.#created,
      evicted: this.#evicted,
      states,
    };
  }

  /** Closes every breaker and refuses new keys. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const breaker of this.#breakers.values()) breaker.close();
    this.#breakers.clear();
  }

  #evictOne(): void {
    let victim: string | undefined;
    let scanned = 0;
    for (const [key, breaker] of this.#breakers) {
      victim ??= key;
      if (breaker.state === 'closed') {
        victim = key;
        break;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    if (victim === undefined) return;
    this.#breakers.get(victim)?.close();
    this.#breakers.delete(victim);
    this.#evicted++;
  }
}

/**
 * Creates a bounded registry of keyed breakers: `registry.get(key)` returns one breaker per key.
 * @throws {PerfConfigError} naming the first invalid option.
 */
export function createBreakerRegistry(options?: BreakerRegistryOptions): BreakerRegistry {
  return new BreakerRegistry(options);
}
