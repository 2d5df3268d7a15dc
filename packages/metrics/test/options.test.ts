import { isPerfConfigError, type PerfConfigError } from '@perf/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsOptions } from '../src/index.js';

function configError(fn: () => unknown): PerfConfigError {
  try {
    fn();
  } catch (error) {
    expect(isPerfConfigError(error)).toBe(true);
    return error as PerfConfigError;
  }
  throw new Error('expected a PerfConfigError');
}

describe('createMetrics options', () => {
  it.each([
    [{ prefix: 'perf-' }, 'prefix'],
    [{ prefix: 1 }, 'prefix'],
    [{ maxLabelValues: 0 }, 'maxLabelValues'],
    [{ buckets: [] }, 'buckets'],
    [{ buckets: [0.1, 0.05] }, 'buckets'],
    [{ buckets: [0, 1] }, 'buckets'],
    [{ exemplars: 'yes' }, 'exemplars'],
    [{ cacheOperationLatency: 1 }, 'cacheOperationLatency'],
    [{ token: '' }, 'token'],
    [{ scrapeSliceMs: -1 }, 'scrapeSliceMs'],
    [{ clock: Date }, 'clock'],
    [{ registry: {} }, 'registry'],
    [{ alerts: { evaluateEveryMs: 0 } }, 'alerts.evaluateEveryMs'],
    [{ alerts: { notifiers: [{}] } }, 'alerts.notifiers[0]'],
    [{ alerts: { rules: 'x' } }, 'alerts.rules'],
    [{ dashboard: { intervalMs: 0 } }, 'dashboard.intervalMs'],
    [{ dashboard: { maxClients: 1.5 } }, 'dashboard.maxClients'],
    [{ dashboard: { rateWindowMs: 500 } }, 'dashboard.rateWindowMs'],
    [{ dashbord: {} }, 'dashbord'],
  ])('refuses %o naming %s', (options, field) => {
    expect(configError(() => createMetrics(options as MetricsOptions)).field).toBe(field);
  });

  it('names the registry when it already holds these metrics, and leaves nothing subscribed', async () => {
    const registry = new Registry();
    const first = createMetrics({ registry });
    const e = configError(() => createMetrics({ registry }));
    expect(e.field).toBe('registry');
    expect(e.cause).toBeInstanceOf(Error);
    const second = createMetrics({ registry, prefix: 'app_' });
    expect(registry.getSingleMetric('app_cache_lookups_total')).toBeDefined();
    await first.close();
    await second.close();
  });

  it('a clash half-way through registration leaves the registry as it was', async () => {
    const { Counter } = await import('prom-client');
    const registry = new Registry();
    new Counter({ name: 'perf_http_requests_total', help: 'user metric', registers: [registry] });
    expect(configError(() => createMetrics({ registry })).field).toBe('registry');
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['perf_http_requests_total']);
  });

  it('accepts the documented defaults and an empty prefix', async () => {
    const m = createMetrics({ prefix: '' });
    expect(m.prefix).toBe('');
    expect(m.registry.getSingleMetric('cache_lookups_total')).toBeDefined();
    expect(m.registry.contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    await m.close();
  });

  it('rejects bad middleware options', async () => {
    const m = createMetrics();
    expect(configError(() => m.httpMiddleware({ route: '/x' } as never)).field).toBe('route');
    expect(configError(() => m.fastifyPlugin({ route: () => 'x' } as never)).field).toBe('route');
    await m.close();
  });
});
