/**
 * Spans never carry secrets: before a span is handed to the exporter, authorization, cookie and
 * set-cookie headers (as HTTP instrumentations record them) and configured attribute keys are
 * replaced by `[REDACTED]`, and cache keys (which often hold user or session ids) are hashed.
 */
import type { AttributeValue, Span } from '@opentelemetry/api';
import { hashString } from '@perf/core';

export const REDACTED = '[REDACTED]';

/** Attribute keys whose values are cache or dedup keys. */
export const KEY_ATTRIBUTES = ['cache.key', 'perf.cache.key', 'perf.dedup.key'] as const;

// The last dotted segment names the header: http.request.header.authorization, ...header.set_cookie
const SECRET_HEADER = /(^|[._])(authorization|proxy[-_]authorization|cookie|set[-_]cookie)$/i;

/** How keys on spans are shown: `hash` (default, `sha256:` + 16 chars), `redact`, or `show`. */
export type KeyMode = 'hash' | 'redact' | 'show';

export interface RedactionConfig {
  attributes: ReadonlySet<string>;
  keys: KeyMode;
}

function hashValue(v: AttributeValue): AttributeValue {
  const h = (s: unknown) => `sha256:${hashString(String(s)).slice(0, 16)}`;
  return Array.isArray(v) ? v.map(h) : h(v);
}

/** What `key`'s value becomes, or undefined when it stays as it is. */
export function redactedValue(
  key: string,
  value: AttributeValue,
  config: RedactionConfig,
): AttributeValue | undefined {
  if (config.attributes.has(key) || SECRET_HEADER.test(key)) return REDACTED;
  if (config.keys !== 'show' && (KEY_ATTRIBUTES as readonly string[]).includes(key)) {
    return config.keys === 'hash' ? hashValue(value) : REDACTED;
  }
  return undefined;
}

/**
 * Redacts a span's attributes; runs at the processor's `onEnding`, while the span can still be
 * written (an SDK span exposes its attributes as `attributes`).
 */
export function redactSpan(span: Span, config: RedactionConfig): void {
  const attrs = (span as Span & { attributes?: Record<string, AttributeValue | undefined> }).attributes;
  if (attrs === undefined) return;
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    if (v === undefined) continue;
    const r = redactedValue(key, v, config);
    if (r !== undefined) span.setAttribute(key, r);
  }
}
