import { type PerfEvent, subscribeAll } from '@perf/core';

export const ok =
  <T>(value: T) =>
  async (_signal: AbortSignal): Promise<T> =>
    value;

export const boom =
  (message = 'boom') =>
  async (_signal: AbortSignal): Promise<never> => {
    throw new Error(message);
  };

/** Settles a promise into a value or the error it threw (for asserting on rejections). */
export async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** Collects every @perf event published while the returned recorder is active. */
export function recordEvents() {
  const events: PerfEvent[] = [];
  const off = subscribeAll((e) => events.push(e));
  return {
    events,
    of<N extends PerfEvent['channel']>(channel: N) {
      return events
        .filter((e) => e.channel === channel)
        .map((e) => e.payload as Extract<PerfEvent, { channel: N }>['payload']);
    },
    stop: off,
  };
}

/** A promise whose settling the test controls. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued microtasks and immediate callbacks run. */
export const tick = () => new Promise<void>((r) => setImmediate(r));

/** Polls `predicate` every 10 ms until it holds, or fails after `timeoutMs` (real time). */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
