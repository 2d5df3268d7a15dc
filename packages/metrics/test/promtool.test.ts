/**
 * What users hand to Prometheus passes Debian's `promtool check metrics`: the handler's output,
 * prom-client's own `registry.metrics()` of the default registry, and that registry merged with
 * prom-client's global one (default process metrics included). promtool is a hard requirement
 * under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { channels, ManualClock } from '@perf/core';
import { Counter, collectDefaultMetrics, Registry, register } from 'prom-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../src/index.js';

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true')
      throw new Error('CI=true but promtool is missing (apt-get install prometheus)');
    return false;
  }
}

/** promtool's exit code and findings (one a line; none when clean). */
function promtoolFindings(text: string): { code: number; findings: string[] } {
  try {
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    return { code: 0, findings: out.split('\n').filter(Boolean) };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    const findings = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter(Boolean);
    return { code: e.status ?? -1, findings };
  }
}

/** promtool's findings when it accepts `text` (empty when clean); throws with them otherwise. */
function promtool(text: string): string {
  const { code, findings } = promtoolFindings(text);
  if (code !== 0) throw new Error(`promtool check metrics exited ${code}:\n${findings.join('\n')}`);
  return findings.join('\n');
}

const open: Metrics[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

/** One event of each kind, so every family has samples. */
function publishSome(): void {
  channels.dedup.lead.publish({ name: 'users', key: 'k', correlationId: 'a' });
  channels.dedup.settle.publish({
    name: 'users',
    key: 'k',
    correlationId: 'a',
    role: 'leader',
    leaderCorrelationId: 'a',
    outcome: 'success',
    durationMs: 12,
  });
  channels.cache.hit.publish({ namespace: 'chat', key: 'k', tier: 'l1' });
  channels.cache.miss.publish({ namespace: 'chat', key: 'k', tier: 'l3' });
  channels.cache.operation.publish({ namespace: 'chat', operation: 'get', result: 'l1', durationMs: 1 });
  channels.cache.invalidate.publish({ namespace: 'chat', tags: ['a'] });
  channels.breaker.call.publish({ name: 'pay', outcome: 'success', durationMs: 3 });
  channels.breaker.state.publish({ name: 'pay', from: 'closed', to: 'open', reason: 'failures' });
}

describe.skipIf(!hasPromtool())('promtool check metrics', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('accepts createMetrics().registry.metrics(), counters named *_total in HELP, TYPE and samples', async () => {
    const m = createMetrics({ clock: new ManualClock() });
    open.push(m);
    publishSome();
    const text = await m.registry.metrics();
    expect(text).toContain('# HELP perf_cache_lookups_total ');
    expect(text).toContain('# TYPE perf_cache_lookups_total counter');
    expect(text).toContain('\nperf_cache_lookups_total{namespace="chat",tier="l1",result="hit"} 1');
    expect(text).not.toContain('# EOF');
    expect(promtool(text)).toBe('');
    // And it stays so: prom-client's metrics() no longer renames anything on a Prometheus registry.
    expect(promtool(await m.registry.metrics())).toBe('');
    expect(await m.render('prometheus')).toBe(await m.registry.metrics());
  });

  it("accepts the handler's output (GET /metrics, Prometheus text), the same wire names as before", async () => {
    const m = createMetrics({ clock: new ManualClock() });
    open.push(m);
    publishSome();
    server = createServer(m.handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'perf_dedup_requests_total{',
      'perf_cache_lookups_total{',
      'perf_cache_tag_invalidations_total{',
      'perf_breaker_calls_total{',
      'perf_breaker_transitions_total{',
      'perf_cache_operation_duration_seconds_bucket{',
      'perf_breaker_state{',
    ]) {
      expect(text).toContain(`\n${name}`);
    }
    expect(promtool(text)).toBe('');
    // OpenMetrics on request still names counter families without _total, samples with it.
    const om = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept: 'application/openmetrics-text' } })
    ).text();
    expect(om).toContain('# TYPE perf_cache_lookups counter');
    expect(om).toContain('\nperf_cache_lookups_total{');
  });

  it("accepts the registry merged with prom-client's global registry", async () => {
    const m = createMetrics({ clock: new ManualClock() });
    open.push(m);
    publishSome();
    const jobs = new Counter({ name: 'app_jobs_total', help: 'Jobs the app ran.', registers: [register] });
    jobs.inc(2);
    try {
      const merged = Registry.merge([m.registry, register]);
      const text = await merged.metrics();
      expect(text).toContain('\nperf_cache_lookups_total{');
      expect(text).toContain('\napp_jobs_total 2');
      expect(promtool(text)).toBe('');

      // With prom-client's default process metrics too: it parses, and nothing of ours is flagged.
      // (promtool's lint does flag three of prom-client's own gauges, named nodejs_active_*_total.)
      collectDefaultMetrics({ register });
      const all = await Registry.merge([m.registry, register]).metrics();
      expect(all).toContain('\nprocess_cpu_user_seconds_total');
      const { code, findings } = promtoolFindings(all);
      expect(code === 0 || code === 3).toBe(true); // 3: lint findings only, no parse error
      expect(findings.filter((f) => !/^nodejs_active_\w+_total non-counter metrics/.test(f))).toEqual([]);
    } finally {
      register.clear();
    }
  });
});
