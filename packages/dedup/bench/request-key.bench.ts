/**
 * createRequestKey on the typical request the issue names: a path, 5 query parameters, a 1 KB JSON
 * body (already parsed, as Express/Fastify hand it over) and a user id. Target: under 5 µs.
 * Also the same body as raw JSON text (parsed and canonicalized), and two naive baselines that are
 * NOT order-insensitive or identity-aware, for scale.
 */
import { createHash } from 'node:crypto';
import { compare } from '../../../tooling/bench.js';
import { createRequestKey, requestKeyBuilder } from '../src/index.js';

const body = {
  conversationId: 'c-1234',
  messages: Array.from({ length: 8 }, (_, i) => ({
    id: i,
    author: `user-${i}`,
    text: 'lorem ipsum dolor sit amet '.repeat(3),
    at: 1_700_000_000_000 + i,
  })),
};
const bodyText = JSON.stringify(body);
console.log(`body: ${bodyText.length} bytes of JSON`);

const req = {
  method: 'GET',
  url: '/api/conversations/c-1234/messages?limit=50&before=1700000000&order=desc&fields=text,author&lang=en',
  headers: { accept: 'application/json', 'accept-encoding': 'gzip, br', host: 'example.test' },
  body,
  identity: 'user-42',
};
const textReq = {
  ...req,
  method: 'PUT',
  headers: { ...req.headers, 'content-type': 'application/json' },
  body: bodyText,
};
const noBodyReq = { ...req, body: undefined };
const build = requestKeyBuilder();

await compare(
  'createRequestKey, typical request (path, 5 query params, 1 KB JSON body, user id)',
  [
    {
      name: 'naive sha256(JSON.stringify(req))',
      fn: () => createHash('sha256').update(JSON.stringify(req)).digest('base64url'),
    },
    { name: 'createRequestKey(req)', fn: () => createRequestKey(req) },
    { name: 'requestKeyBuilder()(req)', fn: () => build(req) },
    { name: 'createRequestKey, JSON text body', fn: () => createRequestKey(textReq) },
    { name: 'createRequestKey, same request without body', fn: () => createRequestKey(noBodyReq) },
    { name: 'for scale: JSON.stringify(body) alone', fn: () => JSON.stringify(body) },
  ],
  { iterations: 5_000, rounds: 9 },
);
