export { createCache } from './create-cache.js';
export type { CreateCacheOptions, L1Options, L2Options, L3Options } from './options.js';
export { assertSerializable, createMsgpackSerializer, type Serializer } from './serializer.js';
export type { TieredCacheStats } from './stats.js';
export {
  TieredCache,
  type TieredGetOrSetOptions,
  type TieredSetOptions,
  type WarmEntries,
  type WarmEntry,
  type WarmOptions,
  type WarmResult,
  type WarmSource,
} from './tiered-cache.js';
export { VERSION } from './version.js';
