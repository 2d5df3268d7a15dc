/**
 * The byte layout of an entry in L2 and L3: a small fixed header that the cache reads itself,
 * then the serializer's bytes for the value.
 *
 *   0..1  magic 0x50 0x43 ("PC")     2  layout version (1)
 *   3..34 createdAt, expiresAt, staleUntil, refreshAt as float64 big-endian
 *   35..36 tag count (uint16), then per tag: uint16 byte length + UTF-8
 *   rest  serializer output
 *
 * Anything else (foreign bytes, truncation, a value the serializer cannot read) is a
 * `CorruptEntryError`, which the cache counts and reads as a miss.
 */
import { PerfSerializationError } from '@perf/core';
import { CacheEntry } from './entry.js';
import type { Serializer } from './serializer.js';

const MAGIC_0 = 0x50;
const MAGIC_1 = 0x43;
const LAYOUT_VERSION = 1;
const HEADER_BYTES = 37;
const MAX_TAGS = 0xffff;

/** Bytes that are not an entry this cache wrote. Internal: it never reaches callers. */
export class CorruptEntryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptEntryError';
  }
}

/**
 * Encodes an entry for L2/L3.
 * @throws {PerfSerializationError} when the value cannot be serialized (nothing is written then).
 */
export function encodeEntry(entry: CacheEntry, serializer: Serializer): Uint8Array {
  let payload: Uint8Array;
  try {
    payload = serializer.serialize(entry.value);
  } catch (error) {
    if (error instanceof PerfSerializationError) throw error;
    throw new PerfSerializationError(
      `value cannot be serialized: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!(payload instanceof Uint8Array)) {
    throw new PerfSerializationError('serializer.serialize must return a Uint8Array');
  }
  const tags = entry.tags ?? [];
  if (tags.length > MAX_TAGS) throw new PerfSerializationError(`an entry may carry at most ${MAX_TAGS} tags`);
  const encodedTags = tags.map((t) => Buffer.from(t, 'utf8'));
  let size = HEADER_BYTES + payload.byteLength;
  for (const t of encodedTags) size += 2 + t.byteLength;
  const out = Buffer.allocUnsafe(size);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = LAYOUT_VERSION;
  out.writeDoubleBE(entry.createdAt, 3);
  out.writeDoubleBE(entry.expiresAt, 11);
  out.writeDoubleBE(entry.staleUntil, 19);
  out.writeDoubleBE(entry.refreshAt, 27);
  out.writeUInt16BE(encodedTags.length, 35);
  let offset = HEADER_BYTES;
  for (const t of encodedTags) {
    if (t.byteLength > 0xffff) throw new PerfSerializationError('a tag may be at most 65535 bytes');
    out.writeUInt16BE(t.byteLength, offset);
    out.set(t, offset + 2);
    offset += 2 + t.byteLength;
  }
  out.set(payload, offset);
  return out;
}

/**
 * Decodes bytes written by `encodeEntry`.
 * @throws {CorruptEntryError} for anything else.
 */
export function decodeEntry(data: unknown, serializer: Serializer): CacheEntry {
  const bytes = toBuffer(data);
  if (bytes.byteLength < HEADER_BYTES || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) {
    throw new CorruptEntryError('not a @perf/cache entry');
  }
  if (bytes[2] !== LAYOUT_VERSION) throw new CorruptEntryError(`unknown entry layout ${bytes[2]}`);
  const createdAt = bytes.readDoubleBE(3);
  const expiresAt = bytes.readDoubleBE(11);
  const staleUntil = bytes.readDoubleBE(19);
  const refreshAt = bytes.readDoubleBE(27);
  if (!(Number.isFinite(createdAt) && Number.isFinite(expiresAt) && staleUntil >= expiresAt)) {
    throw new CorruptEntryError('entry header has impossible times');
  }
  const tagCount = bytes.readUInt16BE(35);
  let offset = HEADER_BYTES;
  let tags: string[] | undefined;
  if (tagCount > 0) {
    tags = [];
    for (let i = 0; i < tagCount; i++) {
      if (offset + 2 > bytes.byteLength) throw new CorruptEntryError('entry truncated in its tags');
      const length = bytes.readUInt16BE(offset);
      if (offset + 2 + length > bytes.byteLength) throw new CorruptEntryError('entry truncated in its tags');
      tags.push(bytes.toString('utf8', offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
  }
  let value: unknown;
  try {
    value = serializer.deserialize(bytes.subarray(offset));
  } catch (error) {
    throw new CorruptEntryError('entry value cannot be deserialized', { cause: error });
  }
  return new CacheEntry(value, createdAt, expiresAt, staleUntil, refreshAt, tags);
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new CorruptEntryError(`expected bytes, got ${typeof data}`);
}
