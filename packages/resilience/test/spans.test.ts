import { type Span, type SpanOptions, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { ManualClock } from '@perf/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../src/index.js';
import { boom, ok, settle } from './support/helpers.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  status?: { code: SpanStatusCode; message?: string };
  exceptions: unknown[];
  ended: boolean;
}

const recorded: Recorded[] = [];

/** A minimal tracer provider standing in for an SDK: it records what the breaker does with spans. */
const tracer = {
  startSpan(name: string, options?: SpanOptions): Span {
    const r: Recorded = { name, attributes: { ...options?.attributes }, exceptions: [], ended: false };
    recorded.push(r);
    const span = {
      setStatus(status: Recorded['status']) {
        r.status = status;
        return span;
      },
      recordException(e: unknown) {
        r.exceptions.push(e);
      },
      end() {
        r.ended = true;
      },
    };
    return span as unknown as Span;
  },
} as unknown as Tracer;

describe('spans through @opentelemetry/api', () => {
  beforeAll(() => {
    trace.setGlobalTracerProvider({ getTracer: () => tracer });
  });
  afterAll(() => {
    trace.disable();
  });

  it('records an error span for failed and rejected calls, none for successes', async () => {
    const breaker = createCircuitBreaker({ name: 'traced', failureThreshold: 1, clock: new ManualClock() });
    await breaker.execute(ok(1));
    expect(recorded).toHaveLength(0);
    await settle(breaker.execute(boom('upstream 500')));
    await settle(breaker.execute(ok(1)));
    expect(recorded.map((r) => r.name)).toEqual(['breaker failure', 'breaker rejected']);
    expect(recorded[0]).toMatchObject({
      attributes: { 'perf.breaker.name': 'traced', 'perf.breaker.outcome': 'failure' },
      status: { code: SpanStatusCode.ERROR, message: 'upstream 500' },
      ended: true,
    });
    expect(recorded[0]?.exceptions).toEqual([new Error('upstream 500')]);
    expect(recorded[1]).toMatchObject({
      attributes: { 'perf.breaker.outcome': 'rejected', 'perf.breaker.state': 'open' },
      ended: true,
    });
  });

  it('records a bulkhead-rejected span for a call the full bulkhead refused', async () => {
    recorded.length = 0;
    const breaker = createCircuitBreaker({
      name: 'crowded',
      bulkhead: { limit: 1 },
      clock: new ManualClock(),
    });
    let release!: () => void;
    const busy = breaker.execute(() => new Promise<void>((r) => (release = r)));
    await settle(breaker.execute(ok(1)));
    release();
    await busy;
    expect(recorded.map((r) => r.name)).toEqual(['breaker bulkhead-rejected']);
    expect(recorded[0]).toMatchObject({
      attributes: {
        'perf.breaker.name': 'crowded',
        'perf.breaker.outcome': 'bulkhead-rejected',
        'perf.breaker.state': 'closed',
      },
      status: { code: SpanStatusCode.ERROR },
      ended: true,
    });
  });

  it('records a timeout span for an attempt that ran out of time', async () => {
    recorded.length = 0;
    const breaker = createCircuitBreaker({ name: 'slowpoke', timeoutMs: 5, clock: new ManualClock() });
    await settle(breaker.execute(() => new Promise(() => undefined)));
    expect(recorded.map((r) => r.name)).toEqual(['breaker timeout']);
    expect(recorded[0]?.attributes).toMatchObject({
      'perf.breaker.outcome': 'timeout',
      'perf.breaker.name': 'slowpoke',
    });
  });
});
