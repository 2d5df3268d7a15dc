import { isPerfConfigError, isPerfKeyError } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { createRequestKey, requestKeyBuilder } from '../src/index.js';

const base = { method: 'GET', url: '/api/items?page=2&sort=asc', headers: { accept: 'application/json' } };

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createRequestKey', () => {
  it('is stable and hash-shaped', () => {
    const a = createRequestKey(base);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createRequestKey({ ...base })).toBe(a);
    expect(createRequestKey(base, { prefix: 'req:' })).toBe(`req:${a}`);
  });

  it('ignores query parameter order and the fragment, but keeps repeated values in order', () => {
    const a = createRequestKey({ method: 'GET', url: '/x?a=1&b=2' });
    expect(createRequestKey({ method: 'GET', url: '/x?b=2&a=1' })).toBe(a);
    expect(createRequestKey({ method: 'GET', url: '/x?b=2&a=1#frag' })).toBe(a);
    expect(createRequestKey({ method: 'GET', url: '/x?a=%31&b=2' })).toBe(a); // percent-decoding
    expect(createRequestKey({ method: 'GET', url: '/x?t=1&t=2' })).not.toBe(
      createRequestKey({ method: 'GET', url: '/x?t=2&t=1' }),
    );
    expect(createRequestKey({ method: 'GET', url: '/x?' })).toBe(
      createRequestKey({ method: 'GET', url: '/x' }),
    );
    expect(createRequestKey({ method: 'get', url: '/x' })).toBe(
      createRequestKey({ method: 'GET', url: '/x' }),
    );
  });

  it('tells apart method, path, query, headers and bodies', () => {
    const keys = [
      createRequestKey({ method: 'GET', url: '/x' }),
      createRequestKey({ method: 'HEAD', url: '/x' }),
      createRequestKey({ method: 'GET', url: '/y' }),
      createRequestKey({ method: 'GET', url: '/x?a=1' }),
      createRequestKey({ method: 'GET', url: '/x?a=1=' }),
      createRequestKey({ method: 'GET', url: '/x?a' }),
      createRequestKey({ method: 'GET', url: '/x', headers: { accept: 'text/html' } }),
      createRequestKey({ method: 'GET', url: '/x', headers: { host: 'a.example' } }),
      createRequestKey({ method: 'GET', url: '/x', headers: { host: 'b.example' } }),
      createRequestKey({ method: 'PUT', url: '/x', body: { a: 1 } }),
      createRequestKey({ method: 'PUT', url: '/x', body: { a: '1' } }),
      createRequestKey({ method: 'PUT', url: '/x', body: '{"a":1}' }),
      createRequestKey({ method: 'PUT', url: '/x', body: Buffer.from('{"a":1}') }),
      createRequestKey({ method: 'GET', url: '/x?a=1&b=2' }),
      createRequestKey({ method: 'GET', url: '/x?a=1%26b%3D2' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('canonicalizes JSON bodies: key order does not matter, JSON text equals the parsed value', () => {
    const json = { 'content-type': 'application/json' };
    const a = createRequestKey({ method: 'PUT', url: '/x', body: { a: 1, b: [1, 2] } });
    expect(createRequestKey({ method: 'PUT', url: '/x', body: { b: [1, 2], a: 1 } })).toBe(a);
    expect(createRequestKey({ method: 'PUT', url: '/x', headers: json, body: '{"b":[1,2],"a":1}' })).toBe(a);
    expect(
      createRequestKey({ method: 'PUT', url: '/x', headers: json, body: Buffer.from('{"b":[1,2], "a":1}') }),
    ).toBe(a);
    // Without a JSON content type, text and bytes are taken raw.
    expect(createRequestKey({ method: 'PUT', url: '/x', body: '{"b":[1,2],"a":1}' })).not.toBe(a);
  });

  it('keeps two users apart by default (identity or identity headers)', () => {
    const alice = createRequestKey({ ...base, identity: { user: 'alice', tenant: 't1' } });
    const bob = createRequestKey({ ...base, identity: { user: 'bob', tenant: 't1' } });
    expect(alice).not.toBe(bob);
    const withAuth = (token: string) =>
      createRequestKey({ ...base, headers: { ...base.headers, authorization: `Bearer ${token}` } });
    expect(withAuth('a')).not.toBe(withAuth('b'));
    const withCookie = (sid: string) => createRequestKey({ ...base, headers: { cookie: `sid=${sid}` } });
    expect(withCookie('1')).not.toBe(withCookie('2'));
    // Opting in shares across identities (public data).
    const shared = { shareAcrossIdentities: true };
    expect(createRequestKey({ ...base, identity: 'alice' }, shared)).toBe(
      createRequestKey({ ...base, identity: 'bob' }, shared),
    );
  });

  it('reads hand-built header objects case-insensitively, so an Authorization header is never missed', () => {
    const lower = createRequestKey({
      method: 'GET',
      url: '/',
      headers: { authorization: 'Bearer a', accept: 'x' },
    });
    expect(
      createRequestKey({ method: 'GET', url: '/', headers: { Authorization: 'Bearer a', Accept: 'x' } }),
    ).toBe(lower);
    expect(
      createRequestKey({ method: 'GET', url: '/', headers: { Authorization: 'Bearer b', Accept: 'x' } }),
    ).not.toBe(lower);
  });

  it('refuses non-idempotent methods unless an Idempotency-Key is present or the caller opts in', () => {
    const post = { method: 'POST', url: '/orders', body: { item: 1 } };
    expect(isPerfKeyError(errorOf(() => createRequestKey(post)))).toBe(true);
    expect(isPerfKeyError(errorOf(() => createRequestKey({ ...post, method: 'PATCH' })))).toBe(true);
    const k1 = createRequestKey({ ...post, headers: { 'idempotency-key': 'abc' } });
    const k2 = createRequestKey({ ...post, headers: { 'idempotency-key': 'def' } });
    expect(k1).not.toBe(k2);
    expect(createRequestKey(post, { allowUnsafeMethods: true })).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createRequestKey({ method: 'DELETE', url: '/orders/1' })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reads fetch Headers and array header values', () => {
    const h = new Headers({ Accept: 'text/plain', Authorization: 'x' });
    expect(createRequestKey({ method: 'GET', url: '/', headers: h })).toBe(
      createRequestKey({ method: 'GET', url: '/', headers: { accept: 'text/plain', authorization: 'x' } }),
    );
    expect(createRequestKey({ method: 'GET', url: '/', headers: { accept: ['a', 'b'] } })).toBe(
      createRequestKey({ method: 'GET', url: '/', headers: { accept: 'a, b' } }),
    );
  });

  it('drops ignored query parameters and honours chosen headers', () => {
    const opts = { ignoreQueryParams: ['utm_source'], headers: ['X-Tenant'] };
    expect(createRequestKey({ method: 'GET', url: '/p?utm_source=mail&id=1' }, opts)).toBe(
      createRequestKey({ method: 'GET', url: '/p?id=1' }, opts),
    );
    expect(createRequestKey({ method: 'GET', url: '/p', headers: { 'x-tenant': 'a' } }, opts)).not.toBe(
      createRequestKey({ method: 'GET', url: '/p', headers: { 'x-tenant': 'b' } }, opts),
    );
    expect(requestKeyBuilder(opts).coveredHeaders.has('x-tenant')).toBe(true);
  });

  it('is defined for odd input: malformed escapes, unicode, empty values', () => {
    expect(createRequestKey({ method: 'GET', url: '/x?a=%E0%A4%A&b=%' })).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createRequestKey({ method: 'GET', url: '/ü?ß=✓' })).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createRequestKey({ method: 'GET', url: '/x?&&a=&' })).toBe(
      createRequestKey({ method: 'GET', url: '/x?a=' }),
    );
  });

  it.each([
    [null, 'req'],
    [{ url: '/' }, 'req.method'],
    [{ method: 'G ET', url: '/' }, 'req.method'],
    [{ method: 'GET' }, 'req.url'],
    [{ method: 'GET', url: '' }, 'req.url'],
    [{ method: 'GET', url: '/', headers: 'accept' }, 'req.headers'],
  ])('refuses %j with a PerfConfigError naming %s', (req, field) => {
    const error = errorOf(() => createRequestKey(req as never));
    expect(isPerfConfigError(error)).toBe(true);
    expect((error as { field: string }).field).toBe(field);
  });

  it('refuses bad options naming the field', () => {
    for (const [options, field] of [
      [{ headers: 'accept' }, 'headers'],
      [{ headers: ['bad header'] }, 'headers[0]'],
      [{ maxBodyBytes: 0 }, 'maxBodyBytes'],
      [{ shareAcrossIdentities: 'yes' }, 'shareAcrossIdentities'],
      [{ prefx: 'x' }, 'prefx'],
    ] as const) {
      const error = errorOf(() => createRequestKey(base, options as never));
      expect(isPerfConfigError(error)).toBe(true);
      expect((error as { field: string }).field).toBe(field);
    }
  });

  it('throws PerfKeyError for bodies it cannot key (too large, cyclic, functions) instead of hanging', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const put = { method: 'PUT', url: '/x' };
    for (const body of [cyclic, () => 1, Symbol('s'), 'x'.repeat(2000), Buffer.alloc(2000)]) {
      const error = errorOf(() => createRequestKey({ ...put, body }, { maxBodyBytes: 1000 }));
      expect(isPerfKeyError(error)).toBe(true);
    }
    expect(isPerfKeyError(errorOf(() => createRequestKey({ ...put, identity: () => 1 })))).toBe(true);
  });
  it('keeps its keys stable across releases (pinned keys; escapes, bytes, identity and query included)', () => {
    // Keys computed by 0.1.0. A change here changes every key a running fleet computes: a rolling
    // deploy would stop coalescing across old and new instances, so change them only on purpose.
    const pinned: Array<[Parameters<typeof createRequestKey>[0], string]> = [
      [
        {
          method: 'GET',
          url: '/api/items?page=2&sort=asc&q=a%22b%5Cc%0Ad&x=%F0%9F%98%80&lone=%ED%A0%80&t=1&t=2#frag',
          headers: {
            accept: 'application/json',
            host: 'a"b',
            'accept-language': 'x\ny',
            authorization: 'Bearer \u0001',
          },
        },
        '6WpJYBfYJGrVZRMj6_28et3UJnJxFM7ChRcBrWGPvuQ',
      ],
      [
        { method: 'get', url: '/p\u00e9"th?b=\ud800&a=\\', headers: { Authorization: 'x', Cookie: 'sid=1' } },
        'vLiQXzcCCv4fI4ZhqcPIuOUFkeXgOYUaLDrL81pbWKA',
      ],
      [
        {
          method: 'PUT',
          url: '/x',
          headers: { 'content-type': 'application/json' },
          body: Buffer.from('{"b":[1,2], "a":"\\u0000"}'),
        },
        '3ckihBvYUoYTqvoYiSHnE9iJVxOz9mA6EDVFu5gFiUI',
      ],
      [
        { method: 'PUT', url: '/x', body: new Uint8Array([1, 2, 3, 255]).subarray(1, 3) },
        'Chb4fU9RqFgj1ea7b6cmnnjcK-yM1_RPmmj8OYUTAqg',
      ],
      [
        {
          method: 'POST',
          url: '/x',
          headers: { 'idempotency-key': 'k"\n' },
          body: { z: 1, a: [null, true, 'x'] },
          identity: { user: 'u', tenant: 't' },
        },
        '91Hj5Tj-_Q6Nt9YmVEJZb42hEdzVhhuR_BvDgm_54Vo',
      ],
    ];
    for (const [req, key] of pinned) expect(createRequestKey(req)).toBe(key);
  });
});
