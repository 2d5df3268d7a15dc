export type { DedupCallInfo, DedupCallOptions, DedupDetailedResult } from './call-info.js';
export {
  Deduplicator,
  type DeduplicatorStats,
  type DedupRunOptionsWithoutCallback,
} from './deduplicator.js';
export type { DeduplicatorOptions } from './options.js';
export type { ShareMode } from './share.js';
export { SpanAttributes } from './spans.js';
export { VERSION } from './version.js';
