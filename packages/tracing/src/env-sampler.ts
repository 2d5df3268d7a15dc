/** `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, as the OpenTelemetry spec names them. */
import { envFail, envValue, parseKeyValues } from './env.js';
import { jaegerRemoteSampler } from './samplers/jaeger-remote.js';
import { DROPPED, type PerfSampler, perfSampler, SAMPLED } from './samplers/perf-sampler.js';
import { defaultSampler, parentBasedSampler, traceIdRatioSampler } from './samplers/ratio.js';

export const ENV_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
  'jaeger_remote',
  'parentbased_jaeger_remote',
] as const;

const alwaysOn = () => perfSampler('AlwaysOn', () => ({ result: SAMPLED, rule: 'always_on' }));
const alwaysOff = () => perfSampler('AlwaysOff', () => ({ result: DROPPED, rule: 'always_off' }));

function ratioArg(env: NodeJS.ProcessEnv): number {
  const arg = envValue(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (arg === undefined) return 1;
  const n = Number(arg);
  if (!(n >= 0 && n <= 1)) envFail('OTEL_TRACES_SAMPLER_ARG', 'must be a number between 0 and 1', arg);
  return n;
}

function jaegerArg(env: NodeJS.ProcessEnv, serviceName: string): PerfSampler {
  const raw = envValue(env, 'OTEL_TRACES_SAMPLER_ARG');
  const kv = raw ? parseKeyValues('OTEL_TRACES_SAMPLER_ARG', raw) : {};
  const endpoint = kv.endpoint ?? 'http://localhost:5778';
  const interval = kv.pollingIntervalMs === undefined ? 60_000 : Number(kv.pollingIntervalMs);
  const initial = kv.initialSamplingRate === undefined ? 1 : Number(kv.initialSamplingRate);
  if (!(initial >= 0 && initial <= 1)) {
    envFail('OTEL_TRACES_SAMPLER_ARG', 'initialSamplingRate must be a number between 0 and 1', raw);
  }
  if (!(interval > 0)) envFail('OTEL_TRACES_SAMPLER_ARG', 'pollingIntervalMs must be a positive number', raw);
  if (!URL.canParse(endpoint)) envFail('OTEL_TRACES_SAMPLER_ARG', 'endpoint must be an http(s) URL', raw);
  return jaegerRemoteSampler({
    endpoint,
    serviceName,
    pollingIntervalMs: interval,
    fallback: defaultSampler(initial),
  });
}

/** The sampler the environment asks for, or undefined when `OTEL_TRACES_SAMPLER` is unset. */
export function samplerFromEnv(env: NodeJS.ProcessEnv, serviceName: string): PerfSampler | undefined {
  const name = envValue(env, 'OTEL_TRACES_SAMPLER');
  if (name === undefined) return undefined;
  switch (name.toLowerCase()) {
    case 'always_on':
      return alwaysOn();
    case 'always_off':
      return alwaysOff();
    case 'traceidratio':
      return traceIdRatioSampler(ratioArg(env));
    case 'parentbased_always_on':
      return parentBasedSampler({ root: alwaysOn() });
    case 'parentbased_always_off':
      return parentBasedSampler({ root: alwaysOff() });
    case 'parentbased_traceidratio':
      return defaultSampler(ratioArg(env));
    case 'jaeger_remote':
    case 'parentbased_jaeger_remote':
      return jaegerArg(env, serviceName);
    default:
      return envFail('OTEL_TRACES_SAMPLER', `must be one of ${ENV_SAMPLERS.join(', ')}`, name);
  }
}
