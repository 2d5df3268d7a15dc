import { readFileSync, writeFileSync } from 'node:fs';
import type { History } from './history.js';

/** A run's raw record, enough to run the checker again later (`pnpm soak --check <file>`). */
export interface SavedHistory {
  readonly topology: string;
  readonly seed: number;
  readonly upstreamCalls: number;
  readonly history: History;
  readonly stored: ReadonlyMap<string, string>;
}

export function saveHistory(file: string, saved: SavedHistory): void {
  writeFileSync(file, JSON.stringify({ ...saved, stored: [...saved.stored] }));
}

export function loadHistory(file: string): SavedHistory {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Omit<SavedHistory, 'stored'> & {
    stored: [string, string][];
  };
  const history = raw.history;
  // JSON has no Infinity: a fault still running when the run was aborted ends with the run.
  for (const f of history.faults) if (f.end === null) f.end = history.end;
  return { ...raw, history, stored: new Map(raw.stored) };
}
