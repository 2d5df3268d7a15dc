import { trace } from '@opentelemetry/api';
import { isPerfConfigError, type PerfConfigError } from '@perf/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../../../tooling/otlp-receiver.js';
import { setupTracing, type TracingHandle } from '../src/index.js';

let receiver: OtlpReceiver;
let handle: TracingHandle | undefined;
const saved = { ...process.env };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
  Object.assign(process.env, saved);
  receiver.spans.length = 0;
  receiver.requests.length = 0;
});

const base = () => receiver.url.replace(/\/v1\/traces$/, '');

describe('OTEL_* environment variables', () => {
  it('OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces), OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = base();
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-api-key=s%20ecret,x-team=core';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=staging';
    handle = setupTracing({ batch: { scheduledDelayMs: 20 } });
    trace.getTracer('t').startSpan('env').end();
    const [span] = await receiver.waitFor((s) => s.length === 1);
    expect(span!.resource['service.name']).toBe('from-env');
    expect(span!.resource['deployment.environment.name']).toBe('staging');
    expect(receiver.requests[0]!.headers['x-api-key']).toBe('s ecret');
    expect(receiver.requests[0]!.headers['x-team']).toBe('core');
  });

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is and wins over OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9/nowhere';
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.url;
    handle = setupTracing({ serviceName: 'svc', batch: { scheduledDelayMs: 20 } });
    trace.getTracer('t').startSpan('traces-endpoint').end();
    await receiver.waitFor((s) => s.length === 1);
  });

  it('OTEL_EXPORTER_OTLP_TRACES_HEADERS wins over OTEL_EXPORTER_OTLP_HEADERS', async () => {
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-api-key=general';
    process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'x-api-key=traces';
    handle = setupTracing({ serviceName: 'svc', endpoint: receiver.url, batch: { scheduledDelayMs: 20 } });
    trace.getTracer('t').startSpan('h').end();
    await receiver.waitFor((s) => s.length === 1);
    expect(receiver.requests[0]!.headers['x-api-key']).toBe('traces');
  });

  it('explicit options win over the environment', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'http://127.0.0.1:9/v1/traces';
    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    handle = setupTracing({
      serviceName: 'explicit',
      endpoint: receiver.url,
      sampler: 1,
      batch: { scheduledDelayMs: 20 },
    });
    trace.getTracer('t').startSpan('explicit').end();
    const [span] = await receiver.waitFor((s) => s.length === 1);
    expect(span!.resource['service.name']).toBe('explicit');
  });

  it('OTEL_TRACES_SAMPLER / _ARG choose the sampler', () => {
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0';
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' });
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
    expect(handle.samplingStats().rules.ratio).toEqual({ sampled: 0, dropped: 1 });
  });

  it('OTEL_TRACES_SAMPLER=always_on samples even under an unsampled parent', async () => {
    process.env.OTEL_TRACES_SAMPLER = 'always_on';
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' });
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(true);
    expect(handle.samplingStats().rules.always_on).toEqual({ sampled: 1, dropped: 0 });
  });

  it('OTEL_SDK_DISABLED=true (or enabled: false) sets nothing up', async () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    handle = setupTracing({ serviceName: 'svc' });
    expect(handle.enabled).toBe(false);
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
    await handle.shutdown();
    delete process.env.OTEL_SDK_DISABLED;
    handle = setupTracing({ serviceName: 'svc', enabled: false });
    expect(handle.enabled).toBe(false);
    await handle.shutdown();
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' }); // nothing was registered before
    expect(handle.enabled).toBe(true);
  });

  it('OTEL_TRACES_EXPORTER and the OTLP protocol variables pick the exporter', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'otlp';
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/protobuf';
    handle = setupTracing({ serviceName: 'svc', endpoint: receiver.url, batch: { scheduledDelayMs: 20 } });
    trace.getTracer('t').startSpan('x').end();
    await handle.forceFlush();
    expect(receiver.requests[0]?.contentType).toBe('application/x-protobuf');
  });

  const bad: [string, Record<string, string>, string][] = [
    ['sampler name', { OTEL_TRACES_SAMPLER: 'sometimes' }, 'env.OTEL_TRACES_SAMPLER'],
    [
      'sampler arg',
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' },
      'env.OTEL_TRACES_SAMPLER_ARG',
    ],
    ['endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'env.OTEL_EXPORTER_OTLP_ENDPOINT'],
    [
      'traces endpoint',
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://x' },
      'env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    ],
    ['headers', { OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'env.OTEL_EXPORTER_OTLP_HEADERS'],
    ['disabled', { OTEL_SDK_DISABLED: 'yes' }, 'env.OTEL_SDK_DISABLED'],
    ['exporter', { OTEL_TRACES_EXPORTER: 'zipkin' }, 'env.OTEL_TRACES_EXPORTER'],
    [
      'protocol',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'env.OTEL_EXPORTER_OTLP_PROTOCOL',
    ],
    [
      'jaeger arg',
      {
        OTEL_TRACES_SAMPLER: 'jaeger_remote',
        OTEL_TRACES_SAMPLER_ARG: 'endpoint=http://x,initialSamplingRate=2',
      },
      'env.OTEL_TRACES_SAMPLER_ARG',
    ],
  ];
  it.each(bad)('a bad %s is a PerfConfigError naming the variable', (_l, vars, field) => {
    Object.assign(process.env, vars);
    let error: unknown;
    try {
      handle = setupTracing({ serviceName: 'svc' });
    } catch (e) {
      error = e;
    }
    expect(isPerfConfigError(error)).toBe(true);
    expect((error as PerfConfigError).field).toBe(field);
    // Nothing was registered: a correct setup works right after.
    for (const k of Object.keys(vars)) delete process.env[k];
    handle = setupTracing({ serviceName: 'svc', exporter: 'none' });
  });
});
