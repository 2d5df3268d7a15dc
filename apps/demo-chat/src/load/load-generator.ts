/**
 * The seeded load generator: the chat-history workload (tooling/workloads.ts: Zipf over
 * conversations, 90% reads / 10% writes) plus bursts of identical reads and a share of replies,
 * spread round-robin over one or more base URLs on 127.0.0.1, in timed phases, bounded in time and
 * in requests. It also checks every read against the writes that already returned on the same
 * instance (a read missing one is a stale read).
 */
import { CHAT_HISTORY, chatHistoryWorkload, zipfSampler } from '../../../../tooling/workloads.js';
import { conversationIdOfRank, ownerOfConversation, SEED_USERS } from '../workload-plan.js';
import { HttpClient } from './http-client.js';
import { summarize } from './latency.js';

export interface Phase {
  name: string;
  durationMs: number;
  /** Runs when the phase begins (e.g. switch the upstream off). */
  onStart?: () => void | Promise<void>;
  /** Not counted in the totals (still reported on its own). */
  warmup?: boolean;
}

export interface LoadOptions {
  targets: readonly string[];
  phases: readonly Phase[];
  seed?: number;
  /** Requests in flight at once (closed loop). */
  concurrency?: number;
  /** Stop after this many requests whatever the phases say. */
  maxRequests?: number;
  /** Conversations the workload draws from (the demo seeds CHAT_HISTORY.conversations). */
  conversations?: number;
  users?: number;
  writeRatio?: number;
  /** Share of writes that ask the assistant for a reply instead of posting a message. */
  replyShare?: number;
  /** Chance that a read is a burst of `burstSize` identical concurrent reads. */
  burstProbability?: number;
  burstSize?: number;
  requestTimeoutMs?: number;
  /** Called for every write that returned 201 (tests check later that none was lost). */
  onWrite?: (w: { target: string; conversationId: number; messageId: number; kind: OperationKind }) => void;
  /** Called about every 200 ms with the running counts (the CLI's progress bar). */
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  phase: string;
  elapsedMs: number;
  totalMs: number;
  requests: number;
  errors: number;
}

export type OperationKind = 'read' | 'write' | 'reply';

export interface PhaseResult {
  name: string;
  warmup: boolean;
  durationMs: number;
  requests: number;
  /** Transport errors and 5xx. */
  errors: number;
  /** 4xx (the generator sends only valid requests, so any is a finding). */
  clientErrors: number;
  statuses: Record<string, number>;
  byKind: Record<OperationKind, number>;
  latencyMs: ReturnType<typeof summarize>;
  fallbacks: number;
  staleReads: number;
  burstReads: number;
  requestsPerSecond: number;
}

export interface LoadResult {
  targets: readonly string[];
  seed: number;
  concurrency: number;
  phases: PhaseResult[];
  /** Every non-warm-up phase together. */
  total: Omit<PhaseResult, 'name' | 'warmup'>;
  firstErrors: string[];
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Only loopback targets: the generator is a test tool and must never load someone else's server. */
export function checkTargets(targets: readonly string[]): string[] {
  if (targets.length === 0) throw new Error('targets: at least one base URL is required');
  return targets.map((t) => {
    const u = new URL(t);
    if (u.protocol !== 'http:' || !LOCAL_HOSTS.has(u.hostname)) {
      throw new Error(
        `targets: ${t} is not an http:// URL on 127.0.0.1 (the load generator only runs locally)`,
      );
    }
    return u.origin;
  });
}

class PhaseStats {
  requests = 0;
  errors = 0;
  clientErrors = 0;
  fallbacks = 0;
  staleReads = 0;
  burstReads = 0;
  statuses: Record<string, number> = {};
  byKind: Record<OperationKind, number> = { read: 0, write: 0, reply: 0 };
  samples: number[] = [];
  constructor(
    readonly name: string,
    readonly warmup: boolean,
  ) {}
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const targets = checkTargets(o.targets);
  if (o.phases.length === 0) throw new Error('phases: at least one phase is required');
  const seed = o.seed ?? CHAT_HISTORY.seed;
  const concurrency = o.concurrency ?? 16;
  const maxRequests = o.maxRequests ?? 1_000_000;
  const conversations = o.conversations ?? CHAT_HISTORY.conversations;
  const users = o.users ?? SEED_USERS;
  const writeRatio = o.writeRatio ?? CHAT_HISTORY.writeRatio;
  const replyShare = o.replyShare ?? 0.2;
  const burstProbability = o.burstProbability ?? 0.01;
  const burstSize = o.burstSize ?? 8;
  const timeoutMs = o.requestTimeoutMs ?? 10_000;

  const w = chatHistoryWorkload(seed);
  // The standard 10,000 conversations, or the same Zipf over fewer (tests seed fewer to start fast).
  const nextRank =
    conversations === CHAT_HISTORY.conversations
      ? w.nextConversation
      : zipfSampler(conversations, CHAT_HISTORY.zipfExponent, w.random);
  const pickConversation = (): number => conversationIdOfRank(nextRank());
  const client = new HttpClient(concurrency + burstSize);
  // Per target and conversation: the newest message id a write returned (reads must include it).
  const written = new Map<string, number>();
  const firstErrors: string[] = [];
  const stats = o.phases.map((p) => new PhaseStats(p.name, p.warmup === true));
  const totalMs = o.phases.reduce((s, p) => s + p.durationMs, 0);
  let phaseIndex = 0;
  let sent = 0;
  let targetTurn = 0;
  const started = performance.now();
  const deadline = started + totalMs;

  const record = (s: PhaseStats, kind: OperationKind, status: number, ms: number, error?: string) => {
    s.requests++;
    s.byKind[kind]++;
    s.statuses[String(status || 'network')] = (s.statuses[String(status || 'network')] ?? 0) + 1;
    s.samples.push(ms);
    if (status === 0 || status >= 500) s.errors++;
    else if (status >= 400) s.clientErrors++;
    if ((status === 0 || status >= 400) && firstErrors.length < 10)
      firstErrors.push(`${kind} ${status}: ${error ?? ''}`.slice(0, 300));
  };

  const one = async (s: PhaseStats): Promise<void> => {
    const target = targets[targetTurn++ % targets.length]!;
    const id = pickConversation();
    const headers = { 'x-user-id': ownerOfConversation(id, users) };
    const base = `${target}/api/conversations/${id}`;
    const key = `${target}|${id}`;
    // The workload's own draw (random() < 10%), with the ratio made adjustable.
    if (w.random() < writeRatio) {
      const isReply = w.random() < replyShare;
      const kind: OperationKind = isReply ? 'reply' : 'write';
      const text = w.messageText();
      const started = performance.now();
      try {
        const r = isReply
          ? await client.send('POST', `${base}/reply`, headers, undefined, timeoutMs)
          : await client.send('POST', `${base}/messages`, headers, { text }, timeoutMs);
        record(s, kind, r.status, r.ms, r.body);
        if (r.status === 201) {
          const body = JSON.parse(r.body) as { id?: number; message?: { id: number }; fallback?: boolean };
          const newId = body.message?.id ?? body.id ?? 0;
          if (body.fallback) s.fallbacks++;
          if (newId > (written.get(key) ?? 0)) written.set(key, newId);
          o.onWrite?.({ target, conversationId: id, messageId: newId, kind });
        }
      } catch (error) {
        record(s, kind, 0, performance.now() - started, String(error));
      }
      return;
    }
    const burst = w.random() < burstProbability ? burstSize : 1;
    if (burst > 1) s.burstReads += burst;
    await Promise.all(
      Array.from({ length: burst }, async () => {
        const expected = written.get(key) ?? 0;
        const started = performance.now();
        try {
          const r = await client.send('GET', `${base}/messages`, headers, undefined, timeoutMs);
          record(s, 'read', r.status, r.ms, r.body);
          if (r.status === 200 && expected > 0) {
            const { messages } = JSON.parse(r.body) as { messages: Array<{ id: number }> };
            const newest = messages.at(-1)?.id ?? 0;
            if (newest < expected) s.staleReads++;
          }
        } catch (error) {
          record(s, 'read', 0, performance.now() - started, String(error));
        }
      }),
    );
  };

  // Phase boundaries run on the clock, not on request counts.
  let phaseEnds = started + o.phases[0]!.durationMs;
  await o.phases[0]!.onStart?.();
  const advance = async () => {
    while (phaseIndex < o.phases.length - 1 && performance.now() >= phaseEnds) {
      phaseIndex++;
      phaseEnds += o.phases[phaseIndex]!.durationMs;
      await o.phases[phaseIndex]!.onStart?.();
    }
  };
  const progress = () =>
    o.onProgress?.({
      phase: o.phases[phaseIndex]!.name,
      elapsedMs: Math.min(totalMs, performance.now() - started),
      totalMs,
      requests: stats.reduce((n, s) => n + s.requests, 0),
      errors: stats.reduce((n, s) => n + s.errors, 0),
    });
  const ticker = setInterval(() => {
    void advance();
    progress();
  }, 200);

  const worker = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      await advance();
      sent++;
      await one(stats[phaseIndex]!);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(ticker);
    client.close();
  }
  progress();

  const elapsed = performance.now() - started;
  const phaseResult = (s: PhaseStats, durationMs: number): PhaseResult => ({
    name: s.name,
    warmup: s.warmup,
    durationMs,
    requests: s.requests,
    errors: s.errors,
    clientErrors: s.clientErrors,
    statuses: s.statuses,
    byKind: s.byKind,
    latencyMs: summarize(s.samples),
    fallbacks: s.fallbacks,
    staleReads: s.staleReads,
    burstReads: s.burstReads,
    requestsPerSecond: durationMs > 0 ? (s.requests / durationMs) * 1000 : 0,
  });
  const phases = stats.map((s, i) =>
    phaseResult(
      s,
      i === stats.length - 1 ? elapsed - (totalMs - o.phases[i]!.durationMs) : o.phases[i]!.durationMs,
    ),
  );
  const counted = stats.filter((s) => !s.warmup);
  const all = new PhaseStats('total', false);
  for (const s of counted) {
    all.requests += s.requests;
    all.errors += s.errors;
    all.clientErrors += s.clientErrors;
    all.fallbacks += s.fallbacks;
    all.staleReads += s.staleReads;
    all.burstReads += s.burstReads;
    for (const [k, v] of Object.entries(s.statuses)) all.statuses[k] = (all.statuses[k] ?? 0) + v;
    for (const k of ['read', 'write', 'reply'] as const) all.byKind[k] += s.byKind[k];
    for (const x of s.samples) all.samples.push(x);
  }
  const countedMs = o.phases.reduce(
    (n, p, i) => n + (p.warmup ? 0 : (phases[i]?.durationMs ?? p.durationMs)),
    0,
  );
  const { name: _n, warmup: _w, ...total } = phaseResult(all, countedMs);
  return { targets, seed, concurrency, phases, total, firstErrors };
}
