/**
 * Request keys: a stable SHA-256 key for "the same request" (method, path, normalized query, body,
 * chosen headers and, by default, the caller's identity), so two users' requests never coalesce.
 */
import {
  canonicalize,
  check,
  checkOptions,
  describeValue,
  hashString,
  is,
  PerfConfigError,
  PerfKeyError,
  withDefault,
} from '@perf/core';

/** A request as `createRequestKey` reads it; node:http, Express and Fastify requests all fit. */
export interface RequestLike {
  method?: string;
  url?: string;
  /** Plain header object (node lowercases names) or a fetch `Headers`. */
  headers?: Record<string, string | string[] | number | undefined> | HeadersLike;
  /** A parsed body (canonicalized), a string or bytes (taken raw; JSON text is canonicalized). */
  body?: unknown;
  /** Who is asking (user id, tenant, scope...): any value `canonicalize` accepts. */
  identity?: unknown;
}

/** Anything with `get(name)`, such as fetch's `Headers`. */
export interface HeadersLike {
  get(name: string): string | null;
}

export interface RequestKeyOptions {
  /**
   * Request headers whose values are part of the key (case-insensitive). Default
   * `['host', 'accept', 'accept-encoding', 'accept-language']` (`host`: one server, several sites).
   */
  headers?: string[];
  /**
   * Headers that identify the caller when `req.identity` is not given; part of the key unless
   * `shareAcrossIdentities`. Default `['authorization', 'cookie', 'x-api-key']`.
   */
  identityHeaders?: string[];
  /** Leave the caller's identity out, so different users' requests coalesce (public data only). Default false. */
  shareAcrossIdentities?: boolean;
  /** Build keys for non-idempotent methods (POST, PATCH, ...) even without an `Idempotency-Key`. Default false. */
  allowUnsafeMethods?: boolean;
  /** Query parameters left out of the key (e.g. `utm_source`). Default none. */
  ignoreQueryParams?: string[];
  /** Largest body (bytes or characters) accepted; larger throws `PerfKeyError`. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Prepended to the hash, e.g. `"req:"`. Default `""`. */
  prefix?: string;
}

/** Methods whose repetition has the same effect as running once (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters `JSON.stringify` escapes in a string: quote, backslash, controls, (lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(text)`, byte for byte, without the call for text that needs no escaping. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

const headerName = check<string>((v) => typeof v === 'string' && TOKEN.test(v), 'a header name');

const SHAPE = {
  headers: withDefault(is.arrayOf(headerName), ['host', 'accept', 'accept-encoding', 'accept-language']),
  identityHeaders: withDefault(is.arrayOf(headerName), ['authorization', 'cookie', 'x-api-key']),
  shareAcrossIdentities: withDefault(is.boolean, false),
  allowUnsafeMethods: withDefault(is.boolean, false),
  ignoreQueryParams: withDefault(is.arrayOf(is.string), [] as string[]),
  maxBodyBytes: withDefault(is.positiveInteger, 1024 * 1024),
  prefix: withDefault(is.string, ''),
};

/** A prepared key builder: options checked once. */
export interface RequestKeyBuilder {
  /**
   * @throws {PerfConfigError} when `req` is not a request (naming `req.method`, `req.url`, ...).
   * @throws {PerfKeyError} for a non-idempotent method without `Idempotency-Key` (unless allowed),
   * a body over `maxBodyBytes`, or a body/identity that cannot be canonicalized.
   */
  (req: RequestLike): string;
  /** Header names (lowercase) the key covers: `headers` plus identity headers unless shared. */
  readonly coveredHeaders: ReadonlySet<string>;
}

/**
 * Prepares a key builder: validate options once, then call it per request.
 * @throws {PerfConfigError} naming the invalid option.
 */
export function requestKeyBuilder(options?: RequestKeyOptions): RequestKeyBuilder {
  const opts = checkOptions('createRequestKey', options, SHAPE);
  const headers = [...new Set(opts.headers.map((h) => h.toLowerCase()))].sort();
  const identityHeaders = [...new Set(opts.identityHeaders.map((h) => h.toLowerCase()))].sort();
  const ignored = opts.ignoreQueryParams.length > 0 ? new Set(opts.ignoreQueryParams) : undefined;
  // The constant part of each header's line, encoded once here rather than per request.
  const headerTags = headers.map((h) => `h${quote(h)}:`);
  const identityTags = identityHeaders.map((h) => `I${quote(h)}:`);
  const covered = new Set(headers);
  if (!opts.shareAcrossIdentities) for (const h of identityHeaders) covered.add(h);

  const build = (req: RequestLike): string => {
    if (typeof req !== 'object' || req === null) {
      throw new PerfConfigError('req', 'must be a request object', req, { owner: 'createRequestKey' });
    }
    const method = req.method;
    if (typeof method !== 'string' || !TOKEN.test(method)) {
      throw new PerfConfigError('req.method', 'must be an HTTP method', method, {
        owner: 'createRequestKey',
      });
    }
    const url = req.url;
    if (typeof url !== 'string' || url.length === 0) {
      throw new PerfConfigError('req.url', 'must be a non-empty string', url, { owner: 'createRequestKey' });
    }
    const given = req.headers;
    if (given !== undefined && (typeof given !== 'object' || given === null)) {
      throw new PerfConfigError('req.headers', 'must be a header object', given, {
        owner: 'createRequestKey',
      });
    }
    const raw = lowerCaseHeaders(given);
    const upper = method.toUpperCase();
    const idempotencyKey = readHeader(raw, 'idempotency-key');
    if (!IDEMPOTENT.has(upper) && idempotencyKey === undefined && !opts.allowUnsafeMethods) {
      throw new PerfKeyError(
        `createRequestKey: refusing to build a key for ${upper} (not idempotent) without an Idempotency-Key header; ` +
          'pass allowUnsafeMethods: true to coalesce such requests anyway',
      );
    }

    const { path, query } = splitUrl(url, ignored);
    let encoded = `${quote(upper)}\n${quote(path)}\n${query}\n`;
    for (let i = 0; i < headers.length; i++) {
      const value = readHeader(raw, headers[i]!);
      if (value !== undefined) encoded += `${headerTags[i]}${quote(value)}\n`;
    }
    if (idempotencyKey !== undefined) encoded += `k${quote(idempotencyKey)}\n`;
    if (!opts.shareAcrossIdentities) {
      if (req.identity !== undefined) {
        encoded += `i${canonical(req.identity, 64 * 1024)}\n`;
      } else {
        for (let i = 0; i < identityHeaders.length; i++) {
          const value = readHeader(raw, identityHeaders[i]!);
          if (value !== undefined) encoded += `${identityTags[i]}${quote(value)}\n`;
        }
      }
    }
    if (req.body !== undefined && req.body !== null)
      encoded += `b${encodeBody(req.body, raw, opts.maxBodyBytes)}`;
    return opts.prefix + hashString(encoded);
  };
  return Object.assign(build, { coveredHeaders: covered as ReadonlySet<string> });
}

const builders = new WeakMap<object, RequestKeyBuilder>();
let defaultBuilder: RequestKeyBuilder | undefined;

/**
 * A stable, collision-safe key (SHA-256, base64url) for a request: method, path, query (parameter
 * order does not matter; repeated parameters keep their order), body (JSON canonical: key order does
 * not matter; strings and bytes raw), the chosen headers and, unless `shareAcrossIdentities`, the
 * caller's identity (`req.identity`, else the identity headers), so two users never share a key.
 *
 * @throws {PerfConfigError} for invalid options or a value that is not a request.
 * @throws {PerfKeyError} for a non-idempotent method without an `Idempotency-Key` header (unless
 * `allowUnsafeMethods`), a body over `maxBodyBytes`, or a body/identity that cannot be canonicalized.
 */
export function createRequestKey(req: RequestLike, options?: RequestKeyOptions): string {
  let build: RequestKeyBuilder | undefined;
  if (options === undefined) {
    defaultBuilder ??= requestKeyBuilder();
    build = defaultBuilder;
  } else {
    if (typeof options !== 'object' || options === null) {
      throw new PerfConfigError('options', 'must be a plain object', options, { owner: 'createRequestKey' });
    }
    build = builders.get(options);
    if (build === undefined) {
      build = requestKeyBuilder(options);
      builders.set(options, build);
    }
  }
  return build(req);
}

const UPPER = /[A-Z]/;

/**
 * node:http lowercases header names; a header object built by hand may not (`Authorization`), and
 * missing an identity header would let two users share a key. Such objects get lowercased names.
 */
function lowerCaseHeaders(headers: RequestLike['headers']): RequestLike['headers'] {
  if (headers === undefined || typeof (headers as HeadersLike).get === 'function') return headers;
  const plain = headers as Record<string, string | string[] | number | undefined>;
  let mixed = false;
  for (const name in plain) {
    if (UPPER.test(name)) {
      mixed = true;
      break;
    }
  }
  if (!mixed) return headers;
  const out: Record<string, string | string[] | number | undefined> = {};
  for (const name of Object.keys(plain)) {
    const value = plain[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const previous = out[lower];
    out[lower] =
      previous === undefined
        ? value
        : [
            ...(Array.isArray(previous) ? previous : [String(previous)]),
            ...(Array.isArray(value) ? value : [String(value)]),
          ];
  }
  return out;
}

function readHeader(headers: RequestLike['headers'], name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof (headers as HeadersLike).get === 'function') {
    return (headers as HeadersLike).get(name) ?? undefined;
  }
  const value = (headers as Record<string, unknown>)[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** Splits a URL into path (fragment dropped) and a canonical, order-insensitive query encoding. */
function splitUrl(url: string, ignored: Set<string> | undefined): { path: string; query: string } {
  let end = url.indexOf('#');
  if (end === -1) end = url.length;
  const q = url.indexOf('?');
  if (q === -1 || q > end) return { path: url.slice(0, end), query: '' };
  const path = url.slice(0, q);
  const pairs: Array<[string, string]> = [];
  for (const part of url.slice(q + 1, end).split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    if (ignored?.has(name)) continue;
    pairs.push([name, eq === -1 ? '' : decode(part.slice(eq + 1))]);
  }
  // Stable sort by name only: `a=1&b=2` equals `b=2&a=1`, but repeated names keep their order.
  pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  if (pairs.length === 0) return { path, query: '' };
  // JSON.stringify(pairs), byte for byte, built directly (a third of the cost).
  let query = '[';
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    query += `${i === 0 ? '' : ','}[${quote(pair[0])},${quote(pair[1])}]`;
  }
  return { path, query: `${query}]` };
}

function decode(text: string): string {
  const plus = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus; // malformed escapes: keep the raw text (still a distinct, stable key)
  }
}

function encodeBody(body: unknown, headers: RequestLike['headers'], maxBytes: number): string {
  if (typeof body === 'string') {
    if (body.length > maxBytes) throw tooLarge(body.length, maxBytes);
    const json = isJsonContent(headers) ? tryCanonicalJson(body) : undefined;
    return json === undefined ? `s${JSON.stringify(body)}` : `j${json}`;
  }
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) {
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
    if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength, maxBytes);
    // A view on the same memory, not a copy.
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const json = isJsonContent(headers) ? tryCanonicalJson(view.toString('utf8')) : undefined;
    if (json !== undefined) return `j${json}`;
    return `r${view.toString('base64')}`;
  }
  if (typeof body === 'object' || typeof body === 'number' || typeof body === 'boolean') {
    return `j${canonical(body, maxBytes * 2 + 1024)}`;
  }
  throw new PerfKeyError(`createRequestKey: cannot use a body of type ${describeValue(body)}`);
}

function isJsonContent(headers: RequestLike['headers']): boolean {
  const type = readHeader(headers, 'content-type');
  return type !== undefined && /[/+]json\b/i.test(type);
}

function tryCanonicalJson(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return canonical(parsed, text.length * 2 + 1024);
}

function canonical(value: unknown, maxLength: number): string {
  return canonicalize(value, { maxLength });
}

function tooLarge(size: number, max: number): PerfKeyError {
  return new PerfKeyError(`createRequestKey: the body (${size}) is larger than maxBodyBytes (${max})`);
}
