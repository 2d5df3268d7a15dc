import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Decision,
  jaegerRemoteSampler,
  type Sampler,
  setupTracing,
  traceIdRatioSampler,
} from '../src/index.js';
import { waitUntil } from './helpers/wait-until.js';

/** A real sampling endpoint, as Jaeger serves it: GET /sampling?service=NAME -> strategy JSON. */
interface StrategyServer {
  base: string;
  strategy: unknown;
  status: number;
  requests: string[];
  close(): Promise<void>;
}

async function startStrategyServer(): Promise<StrategyServer> {
  const state = { strategy: {} as unknown, status: 200, requests: [] as string[] };
  const server = http.createServer((req, res) => {
    state.requests.push(req.url ?? '');
    if (state.status !== 200) {
      res.writeHead(state.status).end('nope');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.strategy));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    base,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  }) as StrategyServer;
}

let ids = 0;
const nextId = () => (++ids).toString(16).padStart(32, '0').replace(/^0/, 'a');
const ask = (s: Sampler, name = 'op') =>
  s.shouldSample(ROOT_CONTEXT, nextId(), name, SpanKind.SERVER, {}, []).decision;

let srv: StrategyServer;
beforeAll(async () => {
  srv = await startStrategyServer();
});
afterAll(() => srv.close());
beforeEach(() => {
  srv.requests.length = 0;
  srv.status = 200;
});

describe('jaegerRemoteSampler (wrapping @opentelemetry/sampler-jaeger-remote)', () => {
  it('polls once at start, not after one interval, and applies a probabilistic strategy', async () => {
    srv.strategy = { strategyType: 'PROBABILISTIC', probabilisticSampling: { samplingRate: 0 } };
    const s = jaegerRemoteSampler({ endpoint: srv.base, serviceName: 'chat', pollingIntervalMs: 60_000 });
    try {
      expect(s.source).toBe('fallback');
      expect(ask(s)).toBe(Decision.sample); // fallback (keep all) until the answer arrives
      await waitUntil(() => s.source === 'remote', 5_000, 'first poll');
      expect(srv.requests).toEqual(['/sampling?service=chat']);
      expect(ask(s)).toBe(Decision.drop);
      expect(s.decide(ROOT_CONTEXT, nextId(), 'op', SpanKind.SERVER, {}, []).rule).toBe('jaeger-remote');
    } finally {
      s.shutdown();
    }
  });

  it("understands Jaeger's numeric strategy types and serves rate limiting itself", async () => {
    srv.strategy = { strategyType: 1, rateLimitingSampling: { maxTracesPerSecond: 2 } };
    const s = jaegerRemoteSampler({ endpoint: srv.base, serviceName: 'chat' });
    try {
      expect(await s.refresh()).toBe(true);
      const got = Array.from({ length: 10 }, (_, i) => ask(s, `op-${i}`)); // one bucket for all names
      expect(got.filter((d) => d === Decision.sample)).toHaveLength(2);
      srv.strategy = { strategyType: 0, probabilisticSampling: { samplingRate: 1 } };
      expect(await s.refresh()).toBe(true);
      expect(Array.from({ length: 10 }, () => ask(s)).every((d) => d === Decision.sample)).toBe(true);
    } finally {
      s.shutdown();
    }
  });

  it('per-operation strategies', async () => {
    srv.strategy = {
      strategyType: 'PROBABILISTIC',
      probabilisticSampling: { samplingRate: 0 },
      operationSampling: {
        defaultSamplingProbability: 0,
        perOperationStrategies: [{ operation: 'POST /messages', probabilisticSampling: { samplingRate: 1 } }],
      },
    };
    const s = jaegerRemoteSampler({ endpoint: srv.base, serviceName: 'chat' });
    try {
      expect(await s.refresh()).toBe(true);
      expect(ask(s, 'POST /messages')).toBe(Decision.sample);
      expect(ask(s, 'GET /health')).toBe(Decision.drop);
    } finally {
      s.shutdown();
    }
  });

  it('falls back to the configured default while the endpoint is down, and recovers', async () => {
    const gone = await startStrategyServer();
    await gone.close();
    const s = jaegerRemoteSampler({
      endpoint: gone.base,
      serviceName: 'chat',
      fallback: traceIdRatioSampler(0),
    });
    try {
      await waitUntil(() => s.failures === 1, 5_000, 'first poll failed');
      expect(s.source).toBe('fallback');
      expect(ask(s)).toBe(Decision.drop);
      expect(s.decide(ROOT_CONTEXT, nextId(), 'op', SpanKind.SERVER, {}, []).rule).toBe('jaeger-fallback');
    } finally {
      s.shutdown();
    }
    srv.strategy = { strategyType: 'PROBABILISTIC', probabilisticSampling: { samplingRate: 1 } };
    const t = jaegerRemoteSampler({
      endpoint: srv.base,
      serviceName: 'chat',
      fallback: traceIdRatioSampler(0),
    });
    try {
      await waitUntil(() => t.source === 'remote');
      expect(ask(t)).toBe(Decision.sample);
      srv.status = 503; // the endpoint goes down: back to the fallback
      expect(await t.refresh()).toBe(false);
      expect(ask(t)).toBe(Decision.drop);
      srv.status = 200;
      srv.strategy = { strategyType: 'SOMETHING_NEW' }; // garbage counts as down too
      expect(await t.refresh()).toBe(false);
      srv.strategy = { strategyType: 'PROBABILISTIC', probabilisticSampling: { samplingRate: 1 } };
      expect(await t.refresh()).toBe(true);
      expect(ask(t)).toBe(Decision.sample);
      expect(t.failures).toBe(2);
    } finally {
      t.shutdown();
    }
  });

  it('polls every interval on its own timer, and shutdown stops it', async () => {
    srv.strategy = { strategyType: 'PROBABILISTIC', probabilisticSampling: { samplingRate: 1 } };
    const s = jaegerRemoteSampler({ endpoint: srv.base, serviceName: 'chat', pollingIntervalMs: 30 });
    await waitUntil(() => srv.requests.length >= 3, 5_000, 'three polls');
    s.shutdown();
    await new Promise((r) => setTimeout(r, 500)); // a request sent just before shutdown may still land
    const after = srv.requests.length;
    await new Promise((r) => setTimeout(r, 300)); // ten intervals: no new poll
    expect(srv.requests.length).toBe(after);
    expect(await s.refresh()).toBe(false);
  });

  it('validates its options', () => {
    expect(() => jaegerRemoteSampler({ endpoint: 'localhost:5778' })).toThrow(
      /endpoint must be an http\(s\) URL/,
    );
    expect(() => jaegerRemoteSampler({ endpoint: 'http://x', pollingIntervalMs: 0 })).toThrow(
      /pollingIntervalMs/,
    );
    expect(() => jaegerRemoteSampler({ endpoint: 'http://x', fallback: {} as Sampler })).toThrow(
      /fallback must be a Sampler/,
    );
  });

  it('works through setupTracing and OTEL_TRACES_SAMPLER=jaeger_remote', async () => {
    srv.strategy = { strategyType: 'PROBABILISTIC', probabilisticSampling: { samplingRate: 0 } };
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_jaeger_remote';
    process.env.OTEL_TRACES_SAMPLER_ARG = `endpoint=${srv.base},pollingIntervalMs=60000,initialSamplingRate=1`;
    try {
      const handle = setupTracing({ serviceName: 'from-env', exporter: 'none' });
      expect(trace.getTracer('t').startSpan('early').isRecording()).toBe(true); // initialSamplingRate=1
      await waitUntil(() => srv.requests.length === 1);
      await waitUntil(
        () => !trace.getTracer('t').startSpan('later').isRecording(),
        5_000,
        'remote strategy applied',
      );
      expect(srv.requests[0]).toBe('/sampling?service=from-env');
      expect(handle.samplingStats().rules['jaeger-remote']!.dropped).toBeGreaterThan(0);
      await handle.shutdown();
    } finally {
      delete process.env.OTEL_TRACES_SAMPLER;
      delete process.env.OTEL_TRACES_SAMPLER_ARG;
    }
  });
});

describe('a process using the sampler can exit', () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));

  function run(code: string, killAfterMs: number): Promise<{ exited: boolean; ms: number }> {
    return new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd, stdio: 'inherit' });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, killAfterMs);
      child.on('exit', (_code, signal) => {
        clearTimeout(timer);
        resolve({ exited: signal === null, ms: Date.now() - started });
      });
    });
  }

  it('ours exits by itself; the raw package sampler keeps the process alive', async () => {
    srv.strategy = { strategyType: 'PROBABILISTIC', probabilisticSampling: { samplingRate: 1 } };
    const ours = await run(
      `const t = await import('@perf/tracing');
       t.jaegerRemoteSampler({ endpoint: '${srv.base}', serviceName: 'x', pollingIntervalMs: 100 });`,
      10_000,
    );
    expect(ours.exited).toBe(true);
    const raw = await run(
      `const { JaegerRemoteSampler } = await import('@opentelemetry/sampler-jaeger-remote');
       const { AlwaysOnSampler } = await import('@opentelemetry/sdk-trace-base');
       new JaegerRemoteSampler({ endpoint: '${srv.base}', serviceName: 'x', poolingInterval: 100, initialSampler: new AlwaysOnSampler() });`,
      Math.max(2_000, ours.ms * 3),
    );
    expect(raw.exited).toBe(false); // killed by us: its interval never lets go
  }, 40_000);
});
