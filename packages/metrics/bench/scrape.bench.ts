/**
 * What a scrape costs: the collection overhead of a typical process, and how long scraping a large
 * registry blocks the event loop (longest stretch without a turn of the loop), against prom-client's
 * own `registry.metrics()` on the same registry.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { channels } from '@perf/core';
import { median } from '../../../tooling/bench.js';
import { createMetrics, type ExpositionFormat, type Metrics } from '../src/index.js';

function feed(namespaces: number, routes: number, breakers: number, dedups: number) {
  for (let n = 0; n < namespaces; n++) {
    const namespace = `ns${n}`;
    for (const tier of ['l1', 'l2', 'l3'] as const) {
      channels.cache.hit.publish({ namespace, key: 'k', tier });
      channels.cache.miss.publish({ namespace, key: 'k', tier });
    }
    channels.cache.operation.publish({ namespace, operation: 'get', result: 'l1', durationMs: 0.2 });
    channels.cache.operation.publish({ namespace, operation: 'set', durationMs: 0.5 });
    channels.cache.set.publish({ namespace, key: 'k', tiers: ['l1'], ttlMs: 1, reason: 'set' });
  }
  for (let r = 0; r < routes; r++) {
    // HTTP RED through the recorder's public path: the node:http middleware needs a request, so use the
    // same histogram/counter families through events is not possible; simulate with dedup + breaker.
    channels.dedup.settle.publish({
      name: `route${r}`,
      key: 'k',
      correlationId: 'c',
      leaderCorrelationId: 'c',
      role: 'leader',
      outcome: 'success',
      durationMs: 3,
    });
  }
  for (let b = 0; b < breakers; b++) {
    channels.breaker.state.publish({ name: `breaker${b}`, from: 'closed', to: 'open' });
    channels.breaker.call.publish({ name: `breaker${b}`, outcome: 'success', durationMs: 2 });
  }
  for (let d = 0; d < dedups; d++) {
    channels.dedup.lead.publish({ name: `dedup${d}`, key: 'k', correlationId: 'a' });
    channels.dedup.join.publish({
      name: `dedup${d}`,
      key: 'k',
      correlationId: 'b',
      leaderCorrelationId: 'a',
    });
  }
}

async function measure(m: Metrics, format: ExpositionFormat, rounds: number) {
  const totals: number[] = [];
  const slices: number[] = [];
  let bytes = 0;
  let lines = 0;
  for (let i = 0; i < rounds; i++) {
    const text = await m.render(format);
    bytes = text.length;
    lines = text.split('\n').length;
    totals.push(m.lastRenderTiming.totalMs);
    slices.push(m.lastRenderTiming.longestSliceMs);
  }
  return { total: median(totals), slice: median(slices), maxSlice: Math.max(...slices), bytes, lines };
}

async function promClientBlock(m: Metrics, rounds: number) {
  const blocks: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // prom-client's metrics() formats inside one chain of microtasks: the event loop gets no turn.
    const start = performance.now();
    await m.registry.metrics();
    blocks.push(performance.now() - start);
  }
  return median(blocks);
}

// 1. Typical process: 5 cache namespaces x 3 tiers, 20 dedup names, 5 breakers, 3 deduplicators.
{
  const m = createMetrics();
  feed(5, 20, 5, 3);
  await measure(m, 'prometheus', 5);
  const text = await measure(m, 'prometheus', 31);
  const om = await measure(m, 'openmetrics', 31);
  console.log('\ncollection overhead, typical process (5 namespaces x 3 tiers, 20 dedup names, 5 breakers)');
  console.log(
    `  prometheus text : ${text.total.toFixed(2)} ms per scrape (median of 31), ${text.lines} lines, ${text.bytes} bytes`,
  );
  console.log(`  openmetrics     : ${om.total.toFixed(2)} ms per scrape (median of 31); target < 5 ms`);
  await m.close();
}

// 2. Large registry: 2,000 cache namespaces (budget raised to allow them).
{
  const m = createMetrics({ maxLabelValues: 5000, maxSeriesPerMetric: 50_000, scrapeSliceMs: 10 });
  feed(2000, 500, 100, 100);
  await measure(m, 'prometheus', 2);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const ours = await measure(m, 'prometheus', 9);
  h.disable();
  const theirs = await promClientBlock(m, 9);
  console.log(
    `\nscraping a large registry (${ours.lines} lines, ${(ours.bytes / 1e6).toFixed(1)} MB; scrapeSliceMs 10)`,
  );
  console.log(
    `  metrics.render('prometheus')  total ${ours.total.toFixed(1)} ms, longest event-loop block ${ours.slice.toFixed(1)} ms (median), ${ours.maxSlice.toFixed(1)} ms (max of 9)`,
  );
  console.log(
    `  event-loop delay while scraping (monitorEventLoopDelay): max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`,
  );
  console.log(
    `  prom-client registry.metrics() blocks the loop for the whole scrape: ${theirs.toFixed(1)} ms (median of 9)`,
  );
  await m.close();
}
