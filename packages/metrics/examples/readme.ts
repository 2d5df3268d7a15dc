import { createServer } from 'node:http';
import { type AlertRule, createMetrics, toPrometheusRules, webhookNotifier } from '@perf/metrics';

const rules: AlertRule[] = [
  {
    name: 'LowHitRatio',
    expr: {
      ratio: {
        numerator: { signal: 'cache_lookups', match: { result: 'hit' } },
        denominator: { signal: 'cache_lookups' },
      },
      window: '5m',
    },
    op: '<',
    threshold: 0.8,
    for: '2m',
    keepFiringFor: '5m',
    by: ['namespace'],
    severity: 'warning',
  },
];
const metrics = createMetrics({
  token: process.env.METRICS_TOKEN, // optional bearer token for /metrics and the dashboard
  alerts: { rules, notifiers: [webhookNotifier({ url: 'http://alerts.internal/hook' })] },
});

// node:http here; with Express: app.use(metrics.httpMiddleware()); app.get('/metrics', metrics.handler)
const red = metrics.httpMiddleware(); // RED metrics labelled by route template
const server = createServer((req, res) =>
  red(req, res, () => {
    if (req.url === '/metrics') return metrics.handler(req, res); // Prometheus text or OpenMetrics, by Accept
    if (req.url === '/dashboard') return metrics.dashboard(req, res); // HTML page + live SSE stream on the same URL
    res.end('hello');
  }),
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
await fetch(`${base}/hello`);
console.log((await (await fetch(`${base}/metrics`)).text()).split('\n').length, 'lines of metrics');

console.log(metrics.aggregates.quantile({ signal: 'http_request_duration' }, 0.99, 60_000));
console.log(toPrometheusRules(rules)); // the same rules as a Prometheus rule file (write it to perf-rules.yml)
server.close();
await metrics.close(); // unsubscribes, stops timers, ends streams
