/**
 * The L2/L3 serializer: msgpackr (the default, with its lossless-type check) against JSON and
 * v8.serialize, encode + decode round trips of the hot-path value and of a 50-message history.
 */
import v8 from 'node:v8';
import { compare } from '../../../tooling/bench.js';
import { createMsgpackSerializer } from '../src/index.js';

const msgpack = createMsgpackSerializer();
const small = { id: 1, text: 'hello world' };
const history = Array.from({ length: 50 }, (_, i) => ({
  id: i,
  author: i % 7,
  at: new Date(1_700_000_000_000 + i * 1000),
  text: 'lorem ipsum dolor sit amet '.repeat(1 + (i % 8)),
}));

for (const [title, value] of [
  ['{ id, text } round trip', small],
  ['50-message history round trip', history],
] as const) {
  await compare(
    title,
    [
      { name: 'JSON stringify + parse (loses Date)', fn: () => JSON.parse(JSON.stringify(value)) },
      { name: '@perf/cache msgpack serializer', fn: () => msgpack.deserialize(msgpack.serialize(value)) },
      { name: 'v8.serialize + deserialize', fn: () => v8.deserialize(v8.serialize(value)) },
    ],
    { iterations: title.startsWith('50') ? 1_000 : 20_000, rounds: 7 },
  );
}
const bytes = (v: unknown) => [JSON.stringify(v).length, msgpack.serialize(v).length, v8.serialize(v).length];
console.log('\nencoded size (bytes): JSON / msgpack / v8');
console.log(`  { id, text }         ${bytes(small).join(' / ')}`);
console.log(`  50-message history   ${bytes(history).join(' / ')}`);
process.exit(0);
