/**
 * The rules file format: JSON, either an array of rules or `{ "rules": [...] }`, each rule written
 * exactly as in code (durations as `"5m"` strings or milliseconds).
 */
import { readFileSync } from 'node:fs';
import { PerfConfigError } from '@perf/core';
import { type AlertRule, checkAlertRule } from './alert-rule.js';

/**
 * Parses rules from JSON text and validates every rule.
 * @throws {PerfConfigError} for invalid JSON (`field` is `rules`) or the first invalid rule (`rules[2].expr.window`).
 */
export function parseAlertRules(json: string): AlertRule[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new PerfConfigError('rules', 'must be valid JSON', json.slice(0, 80), {
      owner: 'parseAlertRules',
      cause: error,
    });
  }
  const rules = Array.isArray(data) ? data : (data as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) {
    throw new PerfConfigError('rules', 'must be an array of rules (or { "rules": [...] })', data, {
      owner: 'parseAlertRules',
    });
  }
  rules.forEach((r, i) => {
    checkAlertRule(r, `rules[${i}]`, 'parseAlertRules');
  });
  return rules as AlertRule[];
}

/**
 * Reads and validates a JSON rules file.
 * @throws {PerfConfigError} as `parseAlertRules` does; the file-system error when it cannot be read.
 */
export function loadAlertRules(path: string): AlertRule[] {
  return parseAlertRules(readFileSync(path, 'utf8'));
}
