import {
  type Context,
  type ContextManager,
  context,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { Metrics } from '../src/index.js';

/** The value of one series of a metric in the registry (collects first, as a scrape does). */
export async function sample(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
  metricName = name,
): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  const hit = data.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === metricName &&
      Object.entries(labels).every(([k, x]) => String((v.labels as Record<string, unknown>)[k]) === x) &&
      Object.keys(v.labels).filter((k) => k !== 'le').length ===
        Object.keys(labels).filter((k) => k !== 'le').length,
  );
  return hit?.value;
}

/** A minimal synchronous context manager so tests can make a span active without an SDK. */
class StackContextManager implements ContextManager {
  #stack: Context[] = [];
  active(): Context {
    return this.#stack[this.#stack.length - 1] ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.#stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#stack = [];
    return this;
  }
}

/** Runs `fn` with an active span of the given trace id and sampled flag. */
export function withSpan<T>(traceId: string, sampled: boolean, fn: () => T): T {
  const span = trace.wrapSpanContext({
    traceId,
    spanId: '0123456789abcdef',
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  });
  return context.with(trace.setSpan(context.active(), span), fn);
}

export function installContextManager(): () => void {
  context.setGlobalContextManager(new StackContextManager());
  return () => context.disable();
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
export { freePort } from '../../../tooling/redis.js';
