/** What notifiers receive, and the callback and log notifiers. */
import { PerfConfigError } from '@perf/core';

export type AlertState = 'pending' | 'firing' | 'resolved';

/** One alert: a rule's label set, its state and the last evaluated value. */
export interface Alert {
  /** The rule name (also `labels.alertname`). */
  name: string;
  state: AlertState;
  /** `alertname`, `severity`, the rule's labels and the `by` labels of this group. */
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  value: number;
  /** When the condition started holding (ms since epoch). */
  activeAt: number;
  firedAt?: number;
  resolvedAt?: number;
}

/** Sent when an alert starts firing and when it resolves. */
export interface AlertNotification {
  status: 'firing' | 'resolved';
  alert: Alert;
}

/** Anything that can be told about alerts. A throw or a rejection is counted, never propagated. */
export interface AlertNotifier {
  notify(notification: AlertNotification): void | Promise<void>;
  /** Stops background work (pending retries); called by `metrics.close()`. */
  close?(): void | Promise<void>;
}

/**
 * Calls `fn` for every notification.
 * @throws {PerfConfigError} when `fn` is not a function.
 */
export function callbackNotifier(
  fn: (notification: AlertNotification) => void | Promise<void>,
): AlertNotifier {
  if (typeof fn !== 'function') {
    throw new PerfConfigError('fn', 'must be a function', fn, { owner: 'callbackNotifier' });
  }
  return { notify: fn };
}

/** The logger `logNotifier` writes to (`console` fits). */
export interface AlertLogger {
  warn(message: string, details?: unknown): void;
  info(message: string, details?: unknown): void;
}

/** Logs firing alerts with `warn` and resolved ones with `info`. */
export function logNotifier(logger: AlertLogger = console): AlertNotifier {
  return {
    notify({ status, alert }) {
      const labels = Object.entries(alert.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ');
      const message = `[alert ${status}] ${alert.name} value=${alert.value} ${labels}`;
      if (status === 'firing') logger.warn(message, alert);
      else logger.info(message, alert);
    },
  };
}
