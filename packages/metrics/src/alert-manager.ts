/**
 * Evaluates alert rules over the sliding-window aggregates with Prometheus semantics:
 * inactive → pending (condition holds, `for` not yet served) → firing → resolved, one alert per
 * label set, `keepFiringFor` holding a firing alert through short gaps. Notifiers hear `firing`
 * and `resolved`; a failing notifier is counted and never stops evaluation.
 */
import type { Clock, TimerHandle } from '@perf/core';
import { PerfConfigError } from '@perf/core';
import type { Aggregates } from './aggregates.js';
import type { Alert, AlertNotification, AlertNotifier } from './alert-notifier.js';
import {
  type AlertRule,
  type CheckedAlertRule,
  checkAlertRule,
  compare,
  evaluateExpression,
} from './alert-rule.js';

interface ActiveAlert extends Alert {
  rule: CheckedAlertRule;
  lastTrueAt: number;
}

export interface AlertManagerOptions {
  aggregates: Aggregates;
  clock: Clock;
  rules: readonly AlertRule[];
  notifiers: readonly AlertNotifier[];
  evaluateEveryMs: number;
  maxAlerts: number;
  historySize: number;
}

export interface AlertManagerStats {
  evaluations: number;
  notifications: number;
  notifierErrors: number;
  /** Alerts not created because `maxAlerts` were already active. */
  droppedAlerts: number;
  /** Rule evaluations that threw (and were skipped). */
  ruleErrors: number;
}

export class AlertManager {
  readonly #aggregates: Aggregates;
  readonly #clock: Clock;
  readonly #rules = new Map<string, CheckedAlertRule>();
  readonly #notifiers: AlertNotifier[];
  readonly #active = new Map<string, ActiveAlert>();
  readonly #history: Alert[] = [];
  readonly #historySize: number;
  readonly #maxAlerts: number;
  readonly #everyMs: number;
  readonly #stats: AlertManagerStats = {
    evaluations: 0,
    notifications: 0,
    notifierErrors: 0,
    droppedAlerts: 0,
    ruleErrors: 0,
  };
  #timer: TimerHandle | undefined;
  #closed = false;

  /** @internal created by `createMetrics` */
  constructor(o: AlertManagerOptions) {
    this.#aggregates = o.aggregates;
    this.#clock = o.clock;
    this.#notifiers = [...o.notifiers];
    this.#maxAlerts = o.maxAlerts;
    this.#historySize = o.historySize;
    this.#everyMs = o.evaluateEveryMs;
    o.rules.forEach((r, i) => {
      this.#addChecked(checkAlertRule(r, `alerts.rules[${i}]`, 'createMetrics'));
    });
    this.#schedule();
  }

  /** The rules, validated and normalised. */
  get rules(): CheckedAlertRule[] {
    return [...this.#rules.values()];
  }

  /**
   * Adds a rule (evaluated from the next evaluation on).
   * @throws {PerfConfigError} for an invalid rule or a name already in use.
   */
  add(rule: AlertRule): CheckedAlertRule {
    const checked = checkAlertRule(rule);
    this.#addChecked(checked);
    return checked;
  }

  /** Removes a rule and its alerts (without notifications). Returns whether it existed. */
  remove(name: string): boolean {
    for (const [k, a] of this.#active) if (a.name === name) this.#active.delete(k);
    return this.#rules.delete(name);
  }

  /** Adds a notifier. */
  addNotifier(notifier: AlertNotifier): void {
    if (typeof notifier?.notify !== 'function') {
      throw new PerfConfigError('notifier', 'must have a notify() method', notifier, { owner: 'alerts' });
    }
    this.#notifiers.push(notifier);
  }

  /** Pending and firing alerts. */
  active(): Alert[] {
    return [...this.#active.values()].map(snapshot);
  }

  /** Firing alerts only. */
  firing(): Alert[] {
    return this.active().filter((a) => a.state === 'firing');
  }

  /** The latest resolved alerts, newest last (bounded). */
  history(): Alert[] {
    return [...this.#history];
  }

  stats(): AlertManagerStats {
    return { ...this.#stats };
  }

  /** Evaluates every rule now (also runs every `evaluateEveryMs`). Returns the notifications sent. */
  evaluate(): AlertNotification[] {
    if (this.#closed) return [];
    this.#stats.evaluations++;
    const now = this.#clock.now();
    const out: AlertNotification[] = [];
    for (const rule of this.#rules.values()) {
      let values: ReturnType<typeof evaluateExpression>;
      try {
        values = evaluateExpression(rule, this.#aggregates);
      } catch {
        this.#stats.ruleErrors++;
        continue;
      }
      const seen = new Set<string>();
      for (const v of values) {
        if (!compare(v.value, rule.op, rule.threshold)) continue;
        const key = alertKey(rule.name, v.labels, rule.by);
        seen.add(key);
        let alert = this.#active.get(key);
        if (!alert) {
          if (this.#active.size >= this.#maxAlerts) {
            this.#stats.droppedAlerts++;
            continue;
          }
          alert = {
            rule,
            name: rule.name,
            state: 'pending',
            // As in Prometheus, the rule's labels overwrite the series' labels.
            labels: { ...v.labels, ...rule.labels, alertname: rule.name, severity: rule.severity },
            annotations: rule.annotations,
            value: v.value,
            activeAt: now,
            lastTrueAt: now,
          };
          this.#active.set(key, alert);
        }
        alert.value = v.value;
        alert.lastTrueAt = now;
        if (alert.state === 'pending' && now - alert.activeAt >= rule.forMs) {
          alert.state = 'firing';
          alert.firedAt = now;
          out.push({ status: 'firing', alert: snapshot(alert) });
        }
      }
      for (const [key, alert] of this.#active) {
        if (alert.rule !== rule || seen.has(key)) continue;
        if (alert.state === 'pending') {
          this.#active.delete(key);
        } else if (now - alert.lastTrueAt >= rule.keepFiringForMs) {
          this.#active.delete(key);
          alert.state = 'resolved';
          alert.resolvedAt = now;
          const resolved = snapshot(alert);
          this.#history.push(resolved);
          if (this.#history.length > this.#historySize) this.#history.shift();
          out.push({ status: 'resolved', alert: resolved });
        }
      }
    }
    for (const n of out) this.#notify(n);
    return out;
  }

  /** Stops the evaluation timer and closes the notifiers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled(this.#notifiers.map(async (n) => n.close?.()));
  }

  #addChecked(rule: CheckedAlertRule): void {
    if (this.#rules.has(rule.name)) {
      throw new PerfConfigError('name', 'must be unique among alert rules', rule.name, { owner: 'alerts' });
    }
    this.#rules.set(rule.name, rule);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.evaluate();
      this.#schedule();
    }, this.#everyMs);
  }

  #notify(n: AlertNotification): void {
    this.#stats.notifications++;
    for (const notifier of this.#notifiers) {
      try {
        const r = notifier.notify(n);
        if (r && typeof (r as Promise<void>).then === 'function') {
          (r as Promise<void>).then(undefined, () => {
            this.#stats.notifierErrors++;
          });
        }
      } catch {
        this.#stats.notifierErrors++;
      }
    }
  }
}

function alertKey(name: string, labels: Record<string, string>, by: readonly string[]): string {
  let key = name;
  for (const b of by) key += `\u0001${labels[b] ?? ''}`;
  return key;
}

function snapshot(a: ActiveAlert | Alert): Alert {
  const out: Alert = {
    name: a.name,
    state: a.state,
    labels: a.labels,
    annotations: a.annotations,
    value: a.value,
    activeAt: a.activeAt,
  };
  if (a.firedAt !== undefined) out.firedAt = a.firedAt;
  if (a.resolvedAt !== undefined) out.resolvedAt = a.resolvedAt;
  return out;
}
