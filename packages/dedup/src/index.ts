export type { DedupCallInfo, DedupCallOptions, DedupDetailedResult } from './call-info.js';
export {
  Deduplicator,
  type DeduplicatorStats,
  type DedupRunOptionsWithoutCallback,
  type InFlightCall,
} from './deduplicator.js';
export {
  type FastifyInstanceLike,
  type FastifyReplyLike,
  type FastifyRequestLike,
  fastifyDedup,
} from './fastify-plugin.js';
export { type DedupMiddleware, dedupMiddleware } from './http-middleware.js';
export type { CapturedResponse, DedupHttpOptions, HttpRequestLike } from './http-response.js';
export type { DeduplicatorOptions } from './options.js';
export type {
  DistributedOptions,
  DistributedStats,
  RedisLike,
  RedisSubscriberLike,
} from './redis-coordinator.js';
export {
  createRequestKey,
  type HeadersLike,
  type RequestKeyBuilder,
  type RequestKeyOptions,
  type RequestLike,
  requestKeyBuilder,
} from './request-key.js';
export type { ShareMode } from './share.js';
export { SpanAttributes } from './spans.js';
export { VERSION } from './version.js';
