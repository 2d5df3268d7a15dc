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

const KEEP = 0;
const SECRET = 1;
const KEY = 2;
type KeyClass = typeof KEEP | typeof SECRET | typeof KEY;

// Attribute keys repeat endlessly (a service has a few dozen), so each key is classified once.
const MAX_CLASSIFIED = 1024;

/** Classifies attribute keys for one redaction config, remembering up to 1024 of them. */
export function keyClassifier(config: RedactionConfig): (key: string) => KeyClass {
  const known = new Map<string, KeyClass>();
  return (key) => {
    let c = known.get(key);
    if (c === undefined) {
      c =
        config.attributes.has(key) || SECRET_HEADER.test(key)
          ? SECRET
          : config.keys !== 'show' && (KEY_ATTRIBUTES as readonly string[]).includes(key)
            ? KEY
            : KEEP;
      if (known.size < MAX_CLASSIFIED) known.set(key, c);
    }
    return c;
  };
}

/** What a value of class `c` becomes, or undefined when it stays as it is. */
function replacement(
  c: KeyClass,
  value: AttributeValue,
  config: RedactionConfig,
): AttributeValue | undefined {
  if (c === SECRET) return REDACTED;
  if (c === KEY) return config.keys === 'hash' ? hashValue(value) : REDACTED;
  return undefined;
}

/**
 * A function that redacts a span's attributes; it runs at the processor's `onEnding`, while the
 * span can still be written (an SDK span exposes its attributes as `attributes`).
 */
export function spanRedactor(config: RedactionConfig): (span: Span) => void {
  const classify = keyClassifier(config);
  return (span) => {
    const attrs = (span as Span & { attributes?: Record<string, AttributeValue | undefined> }).attributes;
    if (attrs === undefined) return;
    for (const key in attrs) {
      const c = classify(key);
      if (c === KEEP) continue;
      const v = attrs[key];
      if (v === undefined) continue;
      const r = replacement(c, v, config);
      if (r !== undefined) span.setAttribute(key, r);
    }
  };
}
