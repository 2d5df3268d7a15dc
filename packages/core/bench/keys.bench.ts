/**
 * What a key costs: canonicalize + SHA-256 (hashKey) against the usual shortcut,
 * JSON.stringify + createHash (which is neither order-stable nor type-safe), on the
 * docs/workloads.md hot-path value and on a typical request-shaped object with a 1 KB body.
 */
import { createHash } from 'node:crypto';
import { compare } from '../../../tooling/bench.js';
import { canonicalize, hashKey, hashString } from '../src/index.js';

const small = { id: 1, text: 'hello world' };
const request = {
  method: 'GET',
  path: '/api/conversations/42/messages',
  query: { limit: '50', before: '2026-11-01T00:00:00Z', order: 'desc', include: 'authors', lang: 'en' },
  body: { filter: { text: 'x'.repeat(900), authors: [1, 2, 3] } },
  identity: 'user:1234',
};

const rawSha = (s: string) => createHash('sha256').update(s).digest('base64url');

await compare('small value { id, text }', [
  { name: 'JSON.stringify', fn: () => JSON.stringify(small) },
  { name: 'canonicalize', fn: () => canonicalize(small) },
  { name: 'JSON.stringify + createHash', fn: () => rawSha(JSON.stringify(small)) },
  { name: 'hashKey', fn: () => hashKey(small) },
  { name: 'hashString (pre-built string)', fn: () => hashString('{"id":1,"text":"hello world"}') },
]);

await compare('request-shaped value, 1 KB body', [
  { name: 'JSON.stringify', fn: () => JSON.stringify(request) },
  { name: 'canonicalize', fn: () => canonicalize(request) },
  { name: 'JSON.stringify + createHash', fn: () => rawSha(JSON.stringify(request)) },
  { name: 'hashKey', fn: () => hashKey(request) },
]);
