import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/index.js';
import { WindowedCounter } from '../src/windowed-counter.js';
import { binOf, binValue, LATENCY_BINS, quantileOf, WindowedLatency } from '../src/windowed-latency.js';

const T0 = 1_700_000_000_000;

describe('WindowedCounter', () => {
  it('sums the last N seconds and forgets what slid out', () => {
    const w = new WindowedCounter(1000, 900);
    w.add(5, T0);
    w.add(3, T0 + 1500);
    expect(w.sum(60_000, T0 + 1500)).toBe(8);
    expect(w.sum(1000, T0 + 1500)).toBe(3);
    expect(w.sum(60_000, T0 + 59_999)).toBe(8);
    expect(w.sum(60_000, T0 + 60_500)).toBe(3);
    expect(w.sum(60_000, T0 + 61_000)).toBe(0);
    expect(w.sum(15 * 60_000, T0 + 61_000)).toBe(8);
    expect(w.sum(15 * 60_000, T0 + 16 * 60_000)).toBe(0);
  });

  it('reuses slots after a long gap without stale counts, and counts a past time in the newest slot', () => {
    const w = new WindowedCounter(1000, 10);
    for (let i = 0; i < 10; i++) w.add(1, T0 + i * 1000);
    expect(w.sum(10_000, T0 + 9000)).toBe(10);
    w.add(1, T0 + 100_000);
    expect(w.sum(10_000, T0 + 100_000)).toBe(1);
    w.add(2, T0 + 50_000);
    expect(w.sum(1000, T0 + 100_000)).toBe(3);
  });
});

describe('WindowedLatency', () => {
  it('gives percentiles within one bin (about 20 %) of the truth', () => {
    const w = new WindowedLatency();
    for (let i = 1; i <= 1000; i++) w.observe(i / 1000, T0 + (i % 50) * 100);
    const bins = new Float64Array(LATENCY_BINS);
    w.mergeInto(bins, 60_000, T0 + 5000);
    for (const [q, truth] of [
      [0.5, 0.5],
      [0.95, 0.95],
      [0.99, 0.99],
    ] as const) {
      const v = quantileOf(bins, q)!;
      expect(Math.abs(v - truth) / truth).toBeLessThan(0.2);
    }
  });

  it('uses 15 s slots past one minute and drops what is older than 15 minutes', () => {
    const w = new WindowedLatency();
    w.observe(0.01, T0);
    w.observe(2, T0 + 120_000);
    const bins = new Float64Array(LATENCY_BINS);
    w.mergeInto(bins, 5 * 60_000, T0 + 120_000);
    expect(bins.reduce((a, b) => a + b, 0)).toBe(2);
    bins.fill(0);
    w.mergeInto(bins, 60_000, T0 + 120_000);
    expect(bins.reduce((a, b) => a + b, 0)).toBe(1);
    bins.fill(0);
    w.mergeInto(bins, 15 * 60_000, T0 + 20 * 60_000);
    expect(quantileOf(bins, 0.5)).toBeUndefined();
  });

  it('holds slot storage only for slots that saw observations, and releases it as they slide out', () => {
    const w = new WindowedLatency();
    expect(w.allocatedSlots).toBe(0);
    w.observe(0.01, T0);
    expect(w.allocatedSlots).toBe(2);
    for (let i = 0; i < 120; i++) w.observe(0.01, T0 + i * 1000);
    expect(w.allocatedSlots).toBe(60 + 9); // 60 one-second slots + the 9 fifteen-second slots those 120 s touch
    w.observe(0.01, T0 + 60 * 60_000);
    expect(w.allocatedSlots).toBe(2);
  });

  it('clamps odd values into the end bins', () => {
    expect(binOf(0)).toBe(0);
    expect(binOf(-1)).toBe(0);
    expect(binOf(Number.NaN)).toBe(0);
    expect(binOf(1e9)).toBe(LATENCY_BINS - 1);
    expect(binValue(binOf(0.1))).toBeGreaterThan(0.08);
    expect(binValue(binOf(0.1))).toBeLessThan(0.12);
  });
});

describe('durations', () => {
  it('parses Prometheus-style durations and milliseconds, and formats them back', () => {
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(1500)).toBe(1500);
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(parseDuration('2h'))).toBe('2h');
  });

  it.each(['', '5x', 'm5', '5 m', -1, Number.NaN, null, '1h 5m'])('refuses %s', (bad) => {
    expect(() => parseDuration(bad, 'for')).toThrow(/for must be a duration/);
  });
});
