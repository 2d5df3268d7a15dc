/**
 * Renders a prom-client registry in either exposition format, whatever format the registry was
 * created with, metric by metric, giving the event loop a turn whenever a slice has run longer
 * than `sliceMs`, so a large registry does not stall the process for the whole scrape.
 *
 * prom-client's own `metrics()` in OpenMetrics mode renames counters in place (it strips
 * `_total` from `metric.name` for good), which would break a later Prometheus-text scrape of the
 * same registry. Here the OpenMetrics name is set only for the one metric being written and
 * restored right after; renders run one at a time so two scrapes never see each other's rename.
 */
import { performance } from 'node:perf_hooks';
import { Registry, type RegistryContentType } from 'prom-client';

/** A prom-client registry of either content type. */
export type AnyRegistry = Registry<RegistryContentType>;

/** `new Registry(contentType)` (prom-client's typings omit the constructor argument). */
export function createRegistry(contentType: RegistryContentType): AnyRegistry {
  return new (Registry as unknown as new (type: RegistryContentType) => AnyRegistry)(contentType);
}

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, RegistryContentType> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

interface RenderableMetric {
  name: string;
  type: string;
}

const originalNames = new WeakMap<object, string>();

/** What a render cost: total wall time and the longest stretch without yielding to the event loop. */
export interface RenderTiming {
  totalMs: number;
  longestSliceMs: number;
  metrics: number;
}

export class RegistryRenderer {
  readonly #registry: AnyRegistry;
  readonly #sliceMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  /** Timing of the latest render. */
  lastTiming: RenderTiming = { totalMs: 0, longestSliceMs: 0, metrics: 0 };

  constructor(registry: AnyRegistry, sliceMs: number) {
    this.#registry = registry;
    this.#sliceMs = sliceMs;
  }

  /** Renders the whole registry in `format` (one render at a time). */
  render(format: ExpositionFormat): Promise<string> {
    const run = this.#queue.then(() => this.#render(format));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #render(format: ExpositionFormat): Promise<string> {
    const om = format === 'openmetrics';
    const view = createRegistry(CONTENT_TYPES[format]);
    const defaults = defaultLabelsOf(this.#registry);
    if (defaults) view.setDefaultLabels(defaults);
    const parts: string[] = [];
    const start = performance.now();
    let sliceStart = start;
    let longest = 0;
    const metrics = this.#registry.getMetricsAsArray() as unknown as RenderableMetric[];
    for (const metric of metrics) {
      let original = originalNames.get(metric);
      if (original === undefined) {
        original = metric.name;
        originalNames.set(metric, original);
      }
      const name = om && metric.type === 'counter' ? original.replace(/_total$/, '') : original;
      view.clear();
      if (defaults) view.setDefaultLabels(defaults);
      metric.name = name;
      try {
        view.registerMetric(metric as never);
        parts.push(await view.getSingleMetricAsString(name));
      } finally {
        metric.name = original;
      }
      const now = performance.now();
      if (now - sliceStart >= this.#sliceMs) {
        longest = Math.max(longest, now - sliceStart);
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    const end = performance.now();
    longest = Math.max(longest, end - sliceStart);
    this.lastTiming = { totalMs: end - start, longestSliceMs: longest, metrics: metrics.length };
    return om ? `${parts.join('\n')}\n# EOF\n` : `${parts.join('\n\n')}\n`;
  }
}

/** prom-client keeps default labels in a field with no getter; read it if it is there. */
function defaultLabelsOf(registry: AnyRegistry): Record<string, string> | undefined {
  const labels = (registry as unknown as { _defaultLabels?: unknown })._defaultLabels;
  return labels && typeof labels === 'object' && Object.keys(labels).length > 0
    ? (labels as Record<string, string>)
    : undefined;
}

/**
 * Picks the exposition format from an `Accept` header: OpenMetrics when the client asks for
 * `application/openmetrics-text` with a higher (or equal) q than `text/plain`, else Prometheus text.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    if (!Number.isFinite(q) || q <= 0) continue;
    const t = type.trim().toLowerCase();
    if (t === 'application/openmetrics-text') om = Math.max(om, q);
    else if (t === 'text/plain' || t === '*/*' || t === 'text/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus';
}
