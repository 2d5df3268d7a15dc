import { describe, expect, it } from 'vitest';
import { configFromEnv, configSchema } from '../src/config.js';
import { checkTargets } from '../src/load/load-generator.js';

describe('configuration', () => {
  it('has embedded defaults: port 3000, no database URL, no Redis, caching on', () => {
    const c = configFromEnv({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 3000, caching: true, seedConversations: 10_000 });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
  });

  it('reads the environment', () => {
    const c = configFromEnv({
      PORT: '3001',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/chat',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DEMO_CACHING: 'off',
      DEMO_REQUEST_LOGS: 'off',
    });
    expect(c).toMatchObject({
      port: 3001,
      caching: false,
      requestLogging: false,
      redisUrl: 'redis://127.0.0.1:6379',
    });
  });

  it('refuses a bad value, naming the variable', () => {
    expect(() => configFromEnv({ PORT: 'abc' })).toThrow(/^PORT: /);
    expect(() => configFromEnv({ PORT: '70000' })).toThrow(/^PORT: /);
    expect(() => configFromEnv({ ASSISTANT_ERROR_RATE: '2' })).toThrow(/^ASSISTANT_ERROR_RATE: /);
    expect(() => configFromEnv({ DEMO_REDIS_PREFIX: 'a b' })).toThrow(/^DEMO_REDIS_PREFIX: /);
    expect(() => configFromEnv({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL: /);
  });

  it('refuses unknown options passed to startDemo', () => {
    expect(configSchema.safeParse({ prot: 3000 }).success).toBe(false);
  });
});

describe('load generator targets', () => {
  it('accepts loopback only', () => {
    expect(checkTargets(['http://127.0.0.1:3000/', 'http://localhost:3001'])).toEqual([
      'http://127.0.0.1:3000',
      'http://localhost:3001',
    ]);
    expect(() => checkTargets(['http://example.com'])).toThrow(/^targets: /);
    expect(() => checkTargets(['https://127.0.0.1:3000'])).toThrow(/^targets: /);
    expect(() => checkTargets([])).toThrow(/^targets: /);
  });
});
