import { describe, expect, it } from 'vitest';
import { check, defaultCheckOptions, emptyCoverage, formatViolation } from '../src/checker.js';
import { emptyHistory, type FaultEvent, type History, type Op, type ResourceSample } from '../src/history.js';

let nextId = 0;
function op(partial: Partial<Op> & Pick<Op, 'kind' | 'start' | 'end'>): Op {
  return { id: nextId++, instance: 0, user: 'u1', conversation: 'c1', ok: true, phase: 'steady', ...partial };
}
const write = (id: string, start: number, end: number, instance = 0, more: Partial<Op> = {}) =>
  op({ kind: 'write', start, end, instance, messageId: id, ...more });
const read = (seen: string[], start: number, end: number, instance = 1, more: Partial<Op> = {}) =>
  op({ kind: 'read', start, end, instance, seen, ...more });

function history(ops: Op[], more: Partial<History> = {}): History {
  return { ...emptyHistory(3), end: 60_000, ...more, ops };
}
const stored = (...ids: string[]) => new Map(ids.map((id) => [id, 'c1']));
const options = defaultCheckOptions(3);
const rules = (h: History, s = stored('m1', 'm2')) => check(h, s, options).map((v) => v.rule);
const fault = (kind: FaultEvent['kind'], start: number, end: number, target = 'redis'): FaultEvent => ({
  kind,
  start,
  end,
  target,
});

describe('checker: acknowledged writes', () => {
  it('accepts a history where every acked write is stored and read back, and says how much it judged', () => {
    const h = history([
      write('m1', 0, 10),
      read(['m1'], 200, 210),
      read(['m1'], 10, 12, 0),
      read([], 5, 8, 0),
    ]);
    const coverage = emptyCoverage();
    expect(check(h, stored('m1'), options, coverage)).toEqual([]);
    expect(coverage).toMatchObject({ ackedWrites: 1, readAfterWritePairs: 2 });
  });

  it('catches an acked write that PostgreSQL does not hold', () => {
    const h = history([write('m1', 0, 10), write('m2', 20, 30)]);
    const v = check(h, stored('m1'), options);
    expect(v.map((x) => x.rule)).toEqual(['acked-write-lost']);
    expect(v[0]!.ops[0]!.messageId).toBe('m2');
  });

  it('catches a read on another instance started after ack + 100 ms that misses the write', () => {
    const w = write('m1', 0, 10);
    const r = read([], 111, 120);
    const v = check(history([w, r]), stored('m1'), options);
    expect(v.map((x) => x.rule)).toEqual(['stale-read']);
    expect(v[0]!.ops).toEqual([w, r]);
    expect(formatViolation(v[0]!)).toContain(`#${r.id} read`);
  });

  it('allows another instance to be stale within the 100 ms bound', () => {
    expect(rules(history([write('m1', 0, 10), read([], 105, 120)]), stored('m1'))).toEqual([]);
  });

  it('gives the writer instance no staleness at all', () => {
    expect(rules(history([write('m1', 0, 10), read([], 10.5, 12, 0)]), stored('m1'))).toEqual(['stale-read']);
    // A read that started before the ack may miss it.
    expect(rules(history([write('m1', 0, 10), read([], 9, 12, 0)]), stored('m1'))).toEqual([]);
  });

  it('does not judge a truncated page, and does not confuse conversations', () => {
    const h = history([
      write('m1', 0, 10),
      read([], 500, 510, 1, { truncated: true }),
      read([], 500, 510, 1, { conversation: 'c2' }),
    ]);
    expect(rules(h, stored('m1'))).toEqual([]);
  });

  it('judges a full page only for messages at or above its oldest id', () => {
    const h = history([
      write('5', 0, 10),
      write('90', 20, 30),
      read(['50', '51'], 500, 510, 1, { truncated: true, floor: '50' }),
    ]);
    const v = check(h, new Map(['5', '90', '50', '51'].map((id) => [id, 'c1'])), options);
    expect(v.map((x) => [x.rule, x.ops[0]!.messageId])).toEqual([['stale-read', '90']]);
  });

  it('reports an instance that exited on its own', () => {
    const h = history([], { crashes: [{ instance: 1, at: 3000, exit: 'code 1' }] });
    expect(rules(h)).toEqual(['instance-crashed']);
  });

  it('checks acknowledged replies like writes, and ignores failed writes', () => {
    const h = history([
      op({ kind: 'reply', start: 0, end: 50, messageId: 'r1' }),
      write('m9', 0, 10, 0, { ok: false, error: 'ECONNRESET' }),
      read(['m1'], 500, 510),
    ]);
    const v = check(h, stored('m1'), options);
    expect(v.map((x) => x.rule).sort()).toEqual(['acked-write-lost', 'request-failed', 'stale-read']);
  });

  it('catches a read returning a message PostgreSQL never stored', () => {
    expect(rules(history([read(['ghost'], 0, 5)]), stored())).toEqual(['phantom-read']);
  });
});

describe('checker: failed requests', () => {
  it('allows only requests in flight on an instance when it was SIGKILLed', () => {
    const inFlight = read([], 990, 1001, 2, { ok: false, error: 'ECONNRESET' });
    const afterKill = read([], 1002, 1003, 2, { ok: false, error: 'ECONNREFUSED' });
    const otherInstance = read([], 990, 1001, 1, { ok: false, status: 500 });
    const h = history([inFlight, afterKill, otherInstance], {
      kills: [{ instance: 2, at: 1000, restartedAt: 3000 }],
    });
    const v = check(h, stored(), options);
    expect(v.map((x) => x.rule)).toEqual(['request-failed', 'request-failed']);
    expect(v.map((x) => x.ops[0])).toEqual([afterKill, otherInstance]);
  });

  it('names the Redis fault a request failed during', () => {
    const failed = read([], 100, 200, 1, { ok: false, status: 503 });
    const f = fault('redis-debug-sleep', 50, 150, '127.0.0.1:7001');
    const v = check(history([failed], { faults: [f] }), stored(), options).filter(
      (x) => x.rule !== 'dedup-unproven',
    );
    expect(v).toHaveLength(1);
    expect(v[0]!.message).toContain('redis-debug-sleep');
    expect(v[0]!.faults).toEqual([f]);
  });

  it('counts an upstream outage that surfaced as an error (not a fallback) as a violation', () => {
    const reply = op({ kind: 'reply', start: 100, end: 200, ok: false, status: 502 });
    const h = history([reply], { faults: [fault('upstream-down', 0, 1000, 'upstream')] });
    expect(rules(h)).toEqual(['request-failed']);
    const fallback = op({ kind: 'reply', start: 100, end: 200, fallback: true });
    expect(rules(history([fallback], { faults: [fault('upstream-down', 0, 1000, 'upstream')] }))).toEqual([]);
  });
});

describe('checker: cross-instance dedup', () => {
  const burst = (n: number, start: number, ids: string[]) =>
    ids.map((id, i) => op({ kind: 'reply', start, end: start + 120, instance: i, messageId: id, burst: n }));

  it('accepts a burst over three instances with one leader', () => {
    const h = history(burst(1, 5000, ['r1', 'r1', 'r1']));
    const coverage = emptyCoverage();
    expect(check(h, stored('r1'), options, coverage)).toEqual([]);
    expect(coverage.burstsJudged).toBe(1);
  });

  it('catches a clean burst that ran more than one leader', () => {
    const ops = burst(1, 5000, ['r1', 'r2', 'r1']);
    const v = check(history(ops), stored('r1', 'r2'), options);
    expect(v.map((x) => x.rule)).toEqual(['dedup-broken']);
    expect(v[0]!.message).toContain('2 leaders');
    expect(v[0]!.ops).toEqual(ops);
  });

  it('lets a burst near a Redis fault degrade to local dedup', () => {
    const f = fault('redis-kill-restart', 3000, 4000);
    const ops = [...burst(1, 5000, ['r1', 'r2', 'r3']), ...burst(2, 9000, ['r4', 'r4', 'r4'])];
    expect(rules(history(ops, { faults: [f] }), stored('r1', 'r2', 'r3', 'r4'))).toEqual([]);
  });

  it('flags a Redis fault with no undisturbed burst after it as unproven', () => {
    const f = fault('cluster-failover', 3000, 4000);
    const ops = burst(1, 1000, ['r1', 'r1', 'r1']);
    expect(rules(history(ops, { faults: [f] }), stored('r1'))).toEqual(['dedup-unproven']);
  });
});

describe('checker: breaker-state sync', () => {
  const outage = fault('upstream-down', 10_000, 25_000, 'upstream');
  const sample = (t: number, instance: number, state: 'closed' | 'open' | 'half-open') => ({
    t,
    instance,
    states: { assistant: state },
  });
  const allInstances = (t: number, state: 'closed' | 'open' | 'half-open') =>
    [0, 1, 2].map((i) => sample(t, i, state));

  it('accepts breakers that open during the outage and close after it', () => {
    const breakers = [
      ...allInstances(5000, 'closed'),
      ...allInstances(21_000, 'open'),
      ...allInstances(36_000, 'closed'),
    ];
    expect(rules(history([], { faults: [outage], breakers }))).toEqual([]);
  });

  it('catches an instance whose breaker never learned of the outage', () => {
    const breakers = [
      sample(21_000, 0, 'open'),
      sample(21_000, 1, 'open'),
      sample(21_000, 2, 'closed'),
      ...allInstances(36_000, 'closed'),
    ];
    const v = check(history([], { faults: [outage], breakers }), stored(), options);
    expect(v.map((x) => x.rule)).toEqual(['breaker-not-synced']);
    expect(v[0]!.message).toContain('instance 2');
  });

  it('does not blame a breaker reopened by a later slow upstream', () => {
    const breakers = [...allInstances(21_000, 'open'), ...allInstances(36_000, 'open')];
    const slow = fault('upstream-slow', 28_000, 31_000, 'upstream');
    expect(rules(history([], { faults: [outage, slow], breakers }))).toEqual([]);
  });

  it('catches a breaker still open after the upstream came back', () => {
    const breakers = [...allInstances(21_000, 'open'), ...allInstances(36_000, 'closed').slice(0, 2)];
    breakers.push(sample(36_000, 2, 'half-open'));
    expect(rules(history([], { faults: [outage], breakers }))).toEqual(['breaker-not-recovered']);
  });
});

describe('checker: resources', () => {
  const series = (field: keyof ResourceSample, values: number[], instance = 0, incarnation = 0) =>
    values.map((v, i) => ({ t: i * 1000, instance, incarnation, [field]: v }) as ResourceSample);
  const flat = (n: number, v: number) => Array.from({ length: n }, () => v);
  const check1 = (h: Partial<History>) => check(history([], h), stored(), options).map((v) => v.message);

  it('accepts flat RSS, low lag, steady timers and drained re-sync', () => {
    const resources = [
      ...series('rssBytes', flat(20, 150e6)),
      ...series('loopLagP99Ms', flat(20, 20)),
      ...series('timers', flat(20, 30)),
      ...series('pendingResync', [0, 5, 9, 0, 0, 0, 0, 0]),
    ];
    expect(check1({ resources, redis: flat(20, 12).map((c, t) => ({ t, connections: c })) })).toEqual([]);
  });

  it('catches growing RSS, high lag, leaking timers, undrained re-sync and a connection leak', () => {
    const growing = Array.from({ length: 20 }, (_, i) => 100e6 + i * 40e6);
    const resources = [
      ...series('rssBytes', growing),
      ...series('loopLagP99Ms', [...flat(19, 20), 2500], 1),
      ...series(
        'timers',
        Array.from({ length: 20 }, (_, i) => 10 + i * 30),
        2,
      ),
      ...series('pendingResync', [...flat(59, 0), 12], 1, 1),
    ];
    const redis = Array.from({ length: 20 }, (_, t) => ({ t, connections: 10 + t * 10 }));
    const messages = check1({ resources, redis });
    expect(messages).toEqual([
      expect.stringMatching(/^instance 0\/0: RSS grew/),
      expect.stringMatching(/^instance 1\/0: event-loop lag p99 reached 2500 ms/),
      expect.stringMatching(/^instance 2\/0: timers grew/),
      expect.stringMatching(/^instance 1\/1: 12 re-sync entries still pending/),
      expect.stringMatching(/^Redis connections reached 200/),
      expect.stringMatching(/^Redis connections grew/),
    ]);
  });

  it('starts a new series for a restarted instance', () => {
    // Before the kill the process was big; the restarted one is small: no growth within either.
    const resources = [
      ...series('rssBytes', flat(10, 400e6), 0, 0),
      ...series('rssBytes', flat(10, 120e6), 0, 1),
    ];
    expect(check1({ resources })).toEqual([]);
  });

  it('catches a slow /healthz and growing file descriptors', () => {
    const resources = [
      ...series('healthzMs', [...flat(19, 3), 2500]),
      ...series(
        'fds',
        Array.from({ length: 20 }, (_, i) => 40 + i * 20),
        1,
      ),
    ];
    expect(check1({ resources })).toEqual([
      expect.stringMatching(/^instance 0\/0: \/healthz took 2500 ms/),
      expect.stringMatching(/^instance 1\/0: open file descriptors grew/),
    ]);
  });
});
