/**
 * Trace and span ids from a pool of random hex. The SDK's generator writes random words into a
 * buffer and hex-encodes it for every id, which is ~40% of what a sampled-out span costs; here one
 * `crypto.randomFillSync` and one hex encoding serve 256 trace ids (or 512 span ids), and each id is
 * a slice of that string. Randomness comes from the CSPRNG rather than `Math.random`.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const ZEROS = { 16: '0'.repeat(16), 32: '0'.repeat(32) } as const;

export class PooledIdGenerator {
  #pool = '';
  #offset = 0;

  #take(chars: 16 | 32): string {
    for (;;) {
      if (this.#offset + chars > this.#pool.length) {
        this.#pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString('hex');
        this.#offset = 0;
      }
      const id = this.#pool.slice(this.#offset, this.#offset + chars);
      this.#offset += chars;
      // All zeros is the one invalid id (W3C trace context); draw again in that 2^-64 case.
      if (id !== ZEROS[chars]) return id;
    }
  }

  /** 32 lowercase hex characters, never all zeros. */
  generateTraceId(): string {
    return this.#take(32);
  }

  /** 16 lowercase hex characters, never all zeros. */
  generateSpanId(): string {
    return this.#take(16);
  }
}
