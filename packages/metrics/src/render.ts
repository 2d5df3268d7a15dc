/**
 * Renders a prom-client registry in either exposition format, whatever format the registry was
 * created with, metric by metric, giving the event loop a turn whenever a slice has run longer
 * than `sliceMs`, so a large registry does not stall the process for the whole scrape.
 *
 * Large metrics are written in chunks of samples (prom-client still formats every line: each chunk
 * goes through a one-metric view registry), so one metric with 100,000 series does not block either.
 *
 * prom-client's own `metrics()` in OpenMetrics mode renames counters in place (it strips `_total`
 * from `metric.name` for good), which would break a later Prometheus-text scrape of the same
 * registry. Here the OpenMetrics name is given only to the view, never written to the metric.
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

interface MetricData {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values?: unknown[];
}

interface RenderableMetric {
  name: string;
  type: string;
  get(): Promise<MetricData>;
  getForPromString?(): Promise<MetricData>;
}

/** Samples formatted per step; the event loop gets a turn between steps once a slice ran `sliceMs`. */
const CHUNK = 2000;

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
    // Remember the names now: an OpenMetrics registry's own metrics() may strip `_total` before our
    // first render would have seen them.
    for (const metric of registry.getMetricsAsArray() as unknown as RenderableMetric[]) {
      if (!originalNames.has(metric)) originalNames.set(metric, metric.name);
    }
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
    const parts: string[] = [];
    const start = performance.now();
    let sliceStart = start;
    let longest = 0;
    const pause = async () => {
      const now = performance.now();
      if (now - sliceStart < this.#sliceMs) return;
      longest = Math.max(longest, now - sliceStart);
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    };
    const metrics = this.#registry.getMetricsAsArray() as unknown as RenderableMetric[];
    for (const metric of metrics) {
      let original = originalNames.get(metric);
      if (original === undefined) {
        original = metric.name;
        originalNames.set(metric, original);
      }
      const name = om && metric.type === 'counter' ? original.replace(/_total$/, '') : original;
      const data = await (metric.getForPromString ? metric.getForPromString() : metric.get());
      const values = data.values ?? [];
      const chunks: string[] = [];
      for (let from = 0; from === 0 || from < values.length; from += CHUNK) {
        const chunk = values.length <= CHUNK ? values : values.slice(from, from + CHUNK);
        const proxy = { name, help: data.help, type: data.type, aggregator: data.aggregator };
        const snapshot = { ...data, name, values: chunk };
        view.clear();
        if (defaults) view.setDefaultLabels(defaults);
        view.registerMetric(Object.assign(proxy, { get: async () => snapshot }) as never);
        const text = await view.getSingleMetricAsString(name);
        // Later chunks of the same metric drop their repeated # HELP and # TYPE lines.
        chunks.push(from === 0 ? text : text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1));
        await pause();
      }
      parts.push(chunks.join('\n'));
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
