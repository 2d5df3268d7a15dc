/**
 * `pnpm start`: for now a short tour of @perf/core (the chat backend lands in its own issue).
 * It shows the pieces every other package is built from: option checks with typed errors,
 * canonical keys, and the event channels observers subscribe to.
 */
import {
  channels,
  checkOptions,
  hashKey,
  is,
  isPerfConfigError,
  publish,
  subscribeAll,
  withDefault,
} from '@perf/core';

const roomOptions = { maxMembers: withDefault(is.positiveInteger, 100), name: is.nonEmptyString };

const room = checkOptions('createRoom', { name: 'general' }, roomOptions);
console.log(`room "${room.name}" holds up to ${room.maxMembers} members`);

try {
  checkOptions('createRoom', { name: 'general', maxMembers: -1 }, roomOptions);
} catch (error) {
  if (isPerfConfigError(error)) console.log(`bad option caught, field "${error.field}": ${error.message}`);
}

const a = hashKey({ room: 'general', page: 1, filters: { author: 'ann', since: 0 } });
const b = hashKey({ filters: { since: 0, author: 'ann' }, page: 1, room: 'general' });
console.log(`the same query in another key order hashes the same: ${a === b} (${a})`);

const off = subscribeAll((event) => console.log(`event on ${event.channel}:`, event.payload));
publish(channels.cache.hit, { namespace: 'demo', key: 'room:general', tier: 'l1' });
off();
publish(channels.cache.hit, { namespace: 'demo', key: 'unobserved', tier: 'l1' }); // nobody listens: not built
console.log('demo done');
