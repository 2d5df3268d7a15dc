import { createCircuitBreaker, isBrokenCircuitError } from '@perf/resilience';

// Stand-ins for your HTTP client.
class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
const fetchStatus = async (signal: AbortSignal) => {
  signal.throwIfAborted();
  return { status: 'ok' };
};

const payments = createCircuitBreaker({
  name: 'payments-api',
  failureThreshold: 5, // consecutive counted failures that open it
  halfOpenAfterMs: 30_000, // then one probe call decides: closed again, or open again
  timeoutMs: 2_000, // per attempt; fn's signal aborts at the deadline
  slowCallMs: 1_000, // slower successes count as failures
  errorFilter: (e) => !(e instanceof HttpError && e.status < 500), // a 404 never opens it
  retry: { maxAttempts: 2, initialDelayMs: 100 }, // jittered backoff, stops once open
  bulkhead: { limit: 50, queue: 100 },
  fallback: { value: { status: 'unknown' } }, // or { cache, key: 'payments:status', store: true }
});

const status = await payments.execute((signal) => fetchStatus(signal));
console.log(status, payments.state); // { status: 'ok' } 'closed' ('open' | 'half-open' | 'isolated')

payments.isolate(); // open by hand: calls are refused (the fallback answers them)
console.log(await payments.execute((signal) => fetchStatus(signal))); // { status: 'unknown' }

// Without a fallback, an open breaker refuses calls with BrokenCircuitError; fn is not called.
const search = createCircuitBreaker({ name: 'search-api', failureThreshold: 1 });
await search.execute(() => Promise.reject(new HttpError(503))).catch(() => {}); // opens it
await search
  .execute((signal) => fetchStatus(signal))
  .catch((error) => console.log(isBrokenCircuitError(error))); // true
console.log(payments.stats()); // { calls, successes, failures, rejections, timeouts, slowCalls, fallbacks, ... }
