/**
 * The real services (@perf/cache with Redis as L3, @perf/dedup, @perf/resilience) publish on the
 * core channels; createMetrics turns their events into the standard metrics.
 */

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createCache } from '@perf/cache';
import { Deduplicator } from '@perf/dedup';
import { createCircuitBreaker } from '@perf/resilience';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable } from '../../../../tooling/redis.js';
import { createMetrics } from '../../src/index.js';
import { sample } from '../helpers.js';

const metrics = createMetrics();
afterAll(() => metrics.close());

describe.skipIf(!(await redisAvailable()))('metrics from the real @perf services', () => {
  it('cache: lookups per tier, operation latency and sets, from a cache with Redis as L3', async () => {
    const namespace = `perf-test:metrics:${randomUUID().slice(0, 8)}`;
    const writer = createCache({ namespace, l2: false, l3: { redis: REDIS_URL } });
    const reader = createCache({ namespace, l2: false, l3: { redis: REDIS_URL } });
    try {
      // The caches answer (from L1, or as misses) while their Redis clients still connect: wait until
      // a value written by one is read from Redis by the other, counting what that warm-up records.
      const deadline = Date.now() + 10_000;
      for (let i = 0; ; i++) {
        await writer.set(`warm${i}`, i);
        if ((await reader.get(`warm${i}`)) === i) break;
        if (Date.now() > deadline) throw new Error('Redis did not become ready within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const lookups = async (tier: string, result: string) =>
        (await sample(metrics, 'perf_cache_lookups_total', { namespace, tier, result })) ?? 0;
      const opCount = async (result: string) =>
        (await sample(
          metrics,
          'perf_cache_operation_duration_seconds',
          { namespace, operation: 'get', result },
          'perf_cache_operation_duration_seconds_count',
        )) ?? 0;
      const before = {
        l1hit: await lookups('l1', 'hit'),
        l3hit: await lookups('l3', 'hit'),
        l1miss: await lookups('l1', 'miss'),
        l3miss: await lookups('l3', 'miss'),
        opL1: await opCount('l1'),
        opMiss: await opCount('miss'),
        sets: (await sample(metrics, 'perf_cache_sets_total', { namespace, reason: 'set' })) ?? 0,
      };
      await writer.set('greeting', { text: 'hello' });
      expect(await reader.get('greeting')).toEqual({ text: 'hello' }); // L1 miss, L3 hit
      expect(await writer.get('greeting')).toEqual({ text: 'hello' }); // L1 hit (the writer's own copy)
      expect(await reader.get('absent')).toBeUndefined(); // misses in L1 and L3
      expect((await lookups('l1', 'hit')) - before.l1hit).toBe(1);
      expect((await lookups('l3', 'hit')) - before.l3hit).toBe(1);
      expect((await lookups('l1', 'miss')) - before.l1miss).toBe(2);
      expect((await lookups('l3', 'miss')) - before.l3miss).toBe(1);
      expect((await opCount('l1')) - before.opL1).toBe(1);
      expect((await opCount('miss')) - before.opMiss).toBe(1);
      expect((await sample(metrics, 'perf_cache_sets_total', { namespace, reason: 'set' })) ?? 0).toBe(
        before.sets + 1,
      );
      const text = await metrics.render();
      expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe(
        '',
      );
    } finally {
      await writer.clear();
      await writer.close();
      await reader.close();
    }
  });

  it('dedup: leaders, followers (duplicates prevented) and wait latency', async () => {
    const dedup = new Deduplicator({ name: 'metrics-it' });
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 30));
      return 42;
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => dedup.run('same', work)));
    expect(results).toEqual([42, 42, 42, 42, 42]);
    expect(runs).toBe(1);
    expect(await sample(metrics, 'perf_dedup_requests_total', { name: 'metrics-it', role: 'leader' })).toBe(
      1,
    );
    expect(await sample(metrics, 'perf_dedup_requests_total', { name: 'metrics-it', role: 'follower' })).toBe(
      4,
    );
    const ratio = metrics.aggregates.ratio(
      { signal: 'dedup_requests', match: { role: 'follower' } },
      { signal: 'dedup_requests', match: { name: 'metrics-it' } },
      60_000,
    );
    expect(ratio[0]!.value).toBeCloseTo(0.8);
  });

  it('breaker: call outcomes, state gauge and transitions', async () => {
    const breaker = createCircuitBreaker({
      name: 'metrics-it-db',
      failureThreshold: 2,
      halfOpenAfterMs: 60_000,
    });
    const fail = () => breaker.execute(async () => Promise.reject(new Error('down'))).catch(() => undefined);
    await breaker.execute(async () => 'ok');
    await fail();
    await fail();
    await fail(); // rejected while open
    expect(breaker.state).toBe('open');
    const calls = (outcome: string) =>
      sample(metrics, 'perf_breaker_calls_total', { name: 'metrics-it-db', outcome });
    expect(await calls('success')).toBe(1);
    expect(await calls('failure')).toBe(2);
    expect(await calls('rejected')).toBe(1);
    expect(await sample(metrics, 'perf_breaker_state', { name: 'metrics-it-db', state: 'open' })).toBe(1);
    expect(await sample(metrics, 'perf_breaker_state', { name: 'metrics-it-db', state: 'closed' })).toBe(0);
    expect(
      await sample(metrics, 'perf_breaker_transitions_total', {
        name: 'metrics-it-db',
        from: 'closed',
        to: 'open',
      }),
    ).toBe(1);
    breaker.reset();
  });
});
