import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerfConfigError } from '@perf/core';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseDuration } from '../src/args.js';
import { check, defaultCheckOptions } from '../src/checker.js';
import { emptyHistory } from '../src/history.js';
import { loadHistory, saveHistory } from '../src/saved-history.js';

describe('pnpm soak arguments', () => {
  it('defaults to both topologies, 60 s, seed 1, 3 instances', () => {
    expect(parseArgs([])).toMatchObject({
      durationMs: 60_000,
      topologies: ['single', 'cluster'],
      seed: 1,
      instances: 3,
    });
  });

  it('reads durations in ms, s, m and h, and the other flags (also as --flag=value)', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('1500000ms')).toBe(1_500_000);
    const args = parseArgs([
      '--',
      '--duration=2m',
      '--topology',
      'cluster',
      '--seed',
      '9',
      '--demo-command',
      'node x.js',
      '--strict',
    ]);
    expect(args).toMatchObject({
      durationMs: 120_000,
      topologies: ['cluster'],
      seed: 9,
      demoCommand: ['node', 'x.js'],
      strict: true,
    });
  });

  it.each([
    [['--duration', 'soon'], '--duration'],
    [['--duration', '5s'], '--duration'],
    [['--topology', 'sentinel'], '--topology'],
    [['--seed', '-1'], '--seed'],
    [['--instances', '1'], '--instances'],
    [['--demo-command', ' '], '--demo-command'],
    [['--seed'], '--seed'],
    [['--verbose'], 'argument'],
  ])('refuses %j with a PerfConfigError naming %s', (argv, field) => {
    try {
      parseArgs(argv);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PerfConfigError);
      expect((error as PerfConfigError).field).toBe(field);
    }
  });
});

describe('saved histories', () => {
  it('round-trip through JSON and check the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-history-'));
    try {
      const history = emptyHistory(3);
      history.end = 1000;
      history.ops.push(
        {
          id: 0,
          kind: 'write',
          instance: 0,
          user: 'u',
          conversation: 'c',
          start: 0,
          end: 10,
          ok: true,
          messageId: '1',
          phase: 'x',
        },
        {
          id: 1,
          kind: 'read',
          instance: 1,
          user: 'u',
          conversation: 'c',
          start: 500,
          end: 510,
          ok: true,
          seen: [],
          phase: 'x',
        },
      );
      history.faults.push({
        kind: 'upstream-down',
        start: 900,
        end: Number.POSITIVE_INFINITY,
        target: 'upstream',
      });
      const stored = new Map([['1', 'c']]);
      const file = join(dir, 'h.json');
      saveHistory(file, { topology: 'single', seed: 1, upstreamCalls: 0, history, stored });
      const loaded = loadHistory(file);
      expect(loaded.stored).toEqual(stored);
      expect(loaded.history.faults[0]!.end).toBe(1000); // a fault cut short by the end of the run
      const options = defaultCheckOptions(3);
      expect(check(loaded.history, loaded.stored, options).map((v) => v.rule)).toEqual(['stale-read']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
