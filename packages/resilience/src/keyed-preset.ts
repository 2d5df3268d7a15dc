/**
 * How `BreakerRegistry` hands a breaker options that were checked once for the whole registry
 * (10,000 breakers, one options object) without a constructor parameter users could misuse:
 * `withKeyedPreset` sets the preset for the one constructor call it wraps, which takes it.
 */
import type { CheckedBreakerOptions } from './breaker-options.js';
import type { BreakerSync } from './breaker-sync.js';

export interface KeyedPreset {
  options: CheckedBreakerOptions;
  name: string;
  sync: BreakerSync | undefined;
}

let preset: KeyedPreset | undefined;

/** Runs `build` (a constructor call) with `next` as the preset; cleared afterwards, even on throw. */
export function withKeyedPreset<T>(next: KeyedPreset, build: () => T): T {
  preset = next;
  try {
    return build();
  } finally {
    preset = undefined;
  }
}

/** The preset of the constructor call under way, if any; taking it clears it. */
export function takeKeyedPreset(): KeyedPreset | undefined {
  const taken = preset;
  preset = undefined;
  return taken;
}
