import { PerfConfigError } from '@perf/core';
import type { TopologyKind } from './redis-topology.js';

export interface SoakArgs {
  durationMs: number;
  topologies: TopologyKind[];
  seed: number;
  instances: number;
  demoCommand: string[] | undefined;
  json: string | undefined;
  /** Directory to write each run's raw history to (history-<topology>.json). */
  history: string | undefined;
  /** Re-check a saved history instead of running. */
  check: string | undefined;
  keepLogs: boolean;
  strict: boolean;
}

const OWNER = 'pnpm soak';

/** `60s`, `10m`, `1500ms`, `90` (seconds) -> milliseconds. */
export function parseDuration(text: string, field = '--duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null)
    throw new PerfConfigError(field, 'must be a duration like 60s, 10m or 90000ms', text, { owner: OWNER });
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(match[1]) * unit;
  if (ms < 10_000 || ms > 24 * 3_600_000)
    throw new PerfConfigError(field, 'must be between 10s and 24h', text, { owner: OWNER });
  return ms;
}

function integer(text: string | undefined, field: string, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new PerfConfigError(field, `must be an integer from ${min} to ${max}`, text, { owner: OWNER });
  return n;
}

/** Parses the command line; unknown flags and bad values throw a PerfConfigError naming the flag. */
export function parseArgs(argv: readonly string[]): SoakArgs {
  const args: SoakArgs = {
    durationMs: 60_000,
    topologies: ['single', 'cluster'],
    seed: 1,
    instances: 3,
    demoCommand: undefined,
    json: undefined,
    history: undefined,
    check: undefined,
    keepLogs: false,
    strict: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--') continue;
    const [name, inline] = flag.includes('=')
      ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)]
      : [flag, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new PerfConfigError(name, 'needs a value', undefined, { owner: OWNER });
      return v;
    };
    switch (name) {
      case '--duration':
        args.durationMs = parseDuration(value());
        break;
      case '--topology': {
        const v = value();
        if (v !== 'single' && v !== 'cluster' && v !== 'both')
          throw new PerfConfigError('--topology', 'must be single, cluster or both', v, { owner: OWNER });
        args.topologies = v === 'both' ? ['single', 'cluster'] : [v];
        break;
      }
      case '--seed':
        args.seed = integer(value(), '--seed', 0, 2 ** 31 - 1);
        break;
      case '--instances':
        args.instances = integer(value(), '--instances', 2, 8);
        break;
      case '--demo-command': {
        const v = value().trim();
        if (v === '') throw new PerfConfigError('--demo-command', 'must not be empty', v, { owner: OWNER });
        args.demoCommand = v.split(/\s+/);
        break;
      }
      case '--json':
        args.json = value();
        break;
      case '--history':
        args.history = value();
        break;
      case '--check':
        args.check = value();
        break;
      case '--keep-logs':
        args.keepLogs = true;
        break;
      case '--strict':
        args.strict = true;
        break;
      default:
        throw new PerfConfigError(
          'argument',
          'is not one of --duration, --topology, --seed, --instances, --demo-command, --json, --history, --check, --keep-logs, --strict',
          flag,
          { owner: OWNER },
        );
    }
  }
  return args;
}
