import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalize, hashKey, hashString, PerfKeyError } from '../src/index.js';

describe('hashKey', () => {
  it('is SHA-256 of the canonical encoding, base64url, 43 characters', () => {
    const value = { b: 2, a: [1, 'x'] };
    const expected = createHash('sha256').update(canonicalize(value)).digest('base64url');
    expect(hashKey(value)).toBe(expected);
    expect(hashKey(value)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is stable for equal data and differs across types', () => {
    expect(hashKey({ a: 1, b: 2 })).toBe(hashKey({ b: 2, a: 1 }));
    expect(hashKey({ a: '1' })).not.toBe(hashKey({ a: 1 }));
    expect(hashKey('')).not.toBe(hashKey(undefined));
  });

  it('gives 100,000 distinct inputs 100,000 distinct keys', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      seen.add(hashKey(i));
      seen.add(hashKey(String(i)));
    }
    expect(seen.size).toBe(100_000);
  });

  it('hashString hashes raw strings, with UTF-8 semantics', () => {
    expect(hashString('héllo')).toBe(createHash('sha256').update('héllo', 'utf8').digest('base64url'));
  });

  it('propagates PerfKeyError for values that cannot be keys', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    expect(() => hashKey(cyclic)).toThrow(PerfKeyError);
  });

  it('hashes a 50 MB string to a defined result', () => {
    expect(hashKey('q'.repeat(50 * 1024 * 1024))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
