/**
 * The seeded generators behind docs/workloads.md, so every benchmark and load test that says
 * "chat-history" draws the same sequence.
 */

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sampler of ranks 0..n-1 with Zipf popularity (exponent `s`), by binary search over the CDF. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += 1 / k ** s;
    cdf[k - 1] = total;
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** chat-history: its fixed parameters. */
export const CHAT_HISTORY = {
  conversations: 10_000,
  zipfExponent: 1.1,
  seed: 42,
  writeRatio: 0.1,
  historyLength: 50,
  warmupOps: 10_000,
} as const;

/** One seeded chat-history stream: which conversation, read or write, and message text. */
export function chatHistoryWorkload(seed: number = CHAT_HISTORY.seed) {
  const random = mulberry32(seed);
  const nextConversation = zipfSampler(CHAT_HISTORY.conversations, CHAT_HISTORY.zipfExponent, random);
  const LETTERS = 'abcdefghijklmnopqrstuvwxyz     ';
  return {
    random,
    nextConversation,
    /** True for the 10% of operations that write one message. */
    nextIsWrite: () => random() < CHAT_HISTORY.writeRatio,
    /** Message text of 20 to 400 characters. */
    messageText(): string {
      const length = 20 + Math.floor(random() * 381);
      let s = '';
      for (let i = 0; i < length; i++) s += LETTERS[Math.floor(random() * LETTERS.length)];
      return s;
    },
  };
}
