import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { PooledIdGenerator } from '../src/id-generator.js';

describe('PooledIdGenerator', () => {
  it('makes valid, distinct W3C ids across many pool refills', () => {
    const g = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const t = g.generateTraceId();
      const s = g.generateSpanId();
      expect(isValidTraceId(t) && t.length === 32).toBe(true);
      expect(isValidSpanId(s) && s.length === 16).toBe(true);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(50_000);
    expect(spans.size).toBe(50_000);
  });

  it('hex digits are uniform (no bias from slicing the pool)', () => {
    const g = new PooledIdGenerator();
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++)
      for (const c of g.generateTraceId()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(16);
    const expected = (20_000 * 32) / 16;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.03);
  });
});
