/**
 * What the HTTP adapters share: the options, the captured response a leader hands to its joiners,
 * and the rule for which responses may be shared at all.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { channels, check, checkOptions, is, optional, withDefault } from '@perf/core';
import { Deduplicator } from './deduplicator.js';
import { type RequestKeyBuilder, type RequestKeyOptions, requestKeyBuilder } from './request-key.js';

/** The response a leader produced, as its joiners receive it. */
export interface CapturedResponse {
  status: number;
  /** The reason phrase, when the leader set one (node:http). */
  statusMessage?: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** False when the response must not reach other callers (per-user, too large, streamed). */
  shareable: boolean;
}

/** The request fields the adapters read (node:http, Express and Fastify requests all fit). */
export interface HttpRequestLike {
  method?: string;
  url?: string;
  /** Express's full URL when mounted on a sub-path. */
  originalUrl?: string;
  headers: IncomingHttpHeaders;
}

export interface DedupHttpOptions {
  /** The Deduplicator to use (share it with other code or give it a name). Default: a new one named `http`. */
  deduplicator?: Deduplicator;
  /** Methods deduplicated; others pass straight through. Default `['GET', 'HEAD']`. */
  methods?: string[];
  /**
   * How the request key is built (`createRequestKey` options). The default key covers `host`, `accept`,
   * `accept-encoding`, `accept-language`, `range`, `if-none-match`, `if-modified-since` and the
   * identity headers (`authorization`, `cookie`, `x-api-key`).
   */
  key?: RequestKeyOptions;
  /** Who is asking, e.g. `(req) => req.user?.id`; replaces the identity headers in the key. */
  identity?: (req: HttpRequestLike) => unknown;
  /** Largest response body buffered for joiners; larger responses are not shared. Default 1 MiB. */
  maxResponseBytes?: number;
  /** A joiner's own wait bound; past it the joiner runs the handler itself. Default: none (the in-flight limit). */
  waitTimeoutMs?: number;
}

const DEFAULT_KEY_HEADERS = [
  'host',
  'accept',
  'accept-encoding',
  'accept-language',
  'range',
  'if-none-match',
  'if-modified-since',
];

// Duck-typed rather than `instanceof`, so a Deduplicator from the other build (ESM/CJS) or another
// copy of this package is accepted too.
const isDeduplicator = check<Deduplicator>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Deduplicator).run === 'function' &&
    typeof (v as Deduplicator).has === 'function',
  'a Deduplicator',
);

const SHAPE = {
  deduplicator: optional(isDeduplicator),
  methods: withDefault(is.arrayOf(is.nonEmptyString), ['GET', 'HEAD']),
  key: optional(is.plainObject),
  identity: optional(is.function),
  maxResponseBytes: withDefault(is.positiveInteger, 1024 * 1024),
  waitTimeoutMs: optional(is.positiveNumber),
};

/** Options after checking, shared by the adapters (internal). */
export interface ResolvedHttpOptions {
  deduplicator: Deduplicator;
  methods: ReadonlySet<string>;
  buildKey: RequestKeyBuilder;
  identity: ((req: HttpRequestLike) => unknown) | undefined;
  maxResponseBytes: number;
  waitTimeoutMs: number | undefined;
}

/** @throws {PerfConfigError} naming the invalid option. */
export function resolveHttpOptions(owner: string, options: unknown): ResolvedHttpOptions {
  const opts = checkOptions(owner, options, SHAPE);
  const keyOptions = (opts.key ?? {}) as RequestKeyOptions;
  return {
    deduplicator: opts.deduplicator ?? new Deduplicator({ name: 'http' }),
    methods: new Set(opts.methods.map((m) => m.toUpperCase())),
    buildKey: requestKeyBuilder({ headers: DEFAULT_KEY_HEADERS, ...keyOptions }),
    identity: opts.identity as ResolvedHttpOptions['identity'],
    maxResponseBytes: opts.maxResponseBytes,
    waitTimeoutMs: opts.waitTimeoutMs,
  };
}

/**
 * The request's key, or undefined when it must not be deduplicated (method not listed, or no key
 * can be built for it: such requests simply run as usual).
 */
export function keyOf(options: ResolvedHttpOptions, req: HttpRequestLike): string | undefined {
  const method = req.method?.toUpperCase();
  if (method === undefined || !options.methods.has(method)) return undefined;
  let body: unknown;
  if (method !== 'GET' && method !== 'HEAD') {
    // A body is part of the key. One not parsed yet (no body parser ran before us, or Fastify's
    // onRequest) cannot be keyed, so such a request runs as usual.
    body = (req as { body?: unknown }).body;
    const length = req.headers['content-length'];
    const declared =
      (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (body === undefined && declared) return undefined;
  }
  try {
    const identity = options.identity?.(req);
    return options.buildKey({
      method,
      url: req.originalUrl ?? req.url,
      headers: req.headers,
      identity,
      body,
    });
  } catch {
    if (channels.dedup.bypass.hasSubscribers) {
      channels.dedup.bypass.publish({
        name: options.deduplicator.name,
        key: `${method} ${req.originalUrl ?? req.url ?? ''}`,
        reason: 'not-deduplicable',
      });
    }
    return undefined;
  }
}

/** Response headers that belong to one connection, never copied to a joiner. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'upgrade']);

/**
 * Whether a response may be given to other callers: never when it sets a cookie, is marked
 * `Cache-Control: private`, or varies on a request header the key does not cover (or `Vary: *`).
 */
export function isShareable(headers: OutgoingHttpHeaders, covered: ReadonlySet<string>): boolean {
  if (headers['set-cookie'] !== undefined) return false;
  const cacheControl = headerText(headers['cache-control']);
  if (cacheControl !== undefined && /(^|[\s,])private\b/i.test(cacheControl)) return false;
  const vary = headerText(headers.vary);
  if (vary !== undefined) {
    for (const part of vary.split(',')) {
      const name = part.trim().toLowerCase();
      if (name.length === 0) continue;
      if (name === '*' || !covered.has(name)) return false;
    }
  }
  return true;
}

/** The headers a joiner sends: the leader's, minus per-connection ones. */
export function replayHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

function headerText(value: OutgoingHttpHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}
