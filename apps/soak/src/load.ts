import { mulberry32, zipfSampler } from '../../../tooling/workloads.js';
import type { History, Op, OpKind } from './history.js';
import { sleep } from './ports.js';

/** Where the load sends a request: an instance's base URL, and whether it takes requests now. */
export interface Target {
  readonly index: number;
  readonly url: string;
  readonly up: boolean;
}

export interface LoadOptions {
  readonly seed: number;
  /** Conversations in play at once, Zipf-popular (slot 0 the hottest). */
  readonly conversations: number;
  readonly users: number;
  /** Closed-loop workers, each one request at a time. */
  readonly concurrency: number;
  readonly readShare: number;
  readonly replyShare: number;
  /** A burst of identical reply requests, one per live instance, this often (dedup check). */
  readonly burstEveryMs: number;
  /** A conversation is replaced by a new one at this many messages, so a history page holds it all. */
  readonly maxMessagesPerConversation: number;
  readonly requestTimeoutMs: number;
}

export const defaultLoadOptions = (seed: number): LoadOptions => ({
  seed,
  conversations: 24,
  users: 8,
  concurrency: 6,
  readShare: 0.85,
  replyShare: 0.03,
  burstEveryMs: 1_500,
  maxMessagesPerConversation: 60,
  // Past the demo's own bounds (reply dedup 15 s), so the record shows what the demo answered.
  requestTimeoutMs: 20_000,
});

/** The history page the reads ask for (the demo's maximum). */
const PAGE = 100;

interface Slot {
  conversation: string | undefined;
  user: string;
  messages: number;
}

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

/**
 * The soak's seeded chat load: reads, writes and replies spread over the instances, every request
 * recorded with its start, end and result in the history.
 */
export class LoadDriver {
  phase = 'setup';
  readonly #targets: () => readonly Target[];
  readonly #history: History;
  readonly #clock: () => number;
  readonly #o: LoadOptions;
  readonly #random: () => number;
  readonly #nextSlot: () => number;
  readonly #slots: Slot[];
  #running = false;
  #loops: Promise<void>[] = [];
  #nextOpId = 0;
  #nextBurst = 0;

  constructor(targets: () => readonly Target[], history: History, clock: () => number, options: LoadOptions) {
    this.#targets = targets;
    this.#history = history;
    this.#clock = clock;
    this.#o = options;
    this.#random = mulberry32(options.seed);
    this.#nextSlot = zipfSampler(options.conversations, 1.1, this.#random);
    this.#slots = Array.from({ length: options.conversations }, (_, i) => ({
      conversation: undefined,
      user: `soak-user-${i % options.users}`,
      messages: 0,
    }));
  }

  /** Creates the conversations in play, spread over the instances. */
  async setup(): Promise<void> {
    for (const slot of this.#slots) {
      await this.#create(slot);
      if (slot.conversation === undefined) throw new Error('could not create the soak conversations');
    }
  }

  start(): void {
    this.#running = true;
    for (let i = 0; i < this.#o.concurrency; i++) this.#loops.push(this.#worker());
    this.#loops.push(this.#bursts());
  }

  /** Stops issuing requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  #pickTarget(): Target | undefined {
    const up = this.#targets().filter((t) => t.up);
    return up.length === 0 ? undefined : up[Math.floor(this.#random() * up.length)];
  }

  async #worker(): Promise<void> {
    while (this.#running) {
      const target = this.#pickTarget();
      const slot = this.#slots[this.#nextSlot()]!;
      if (target === undefined || slot.conversation === undefined) {
        await sleep(20);
        continue;
      }
      const r = this.#random();
      if (slot.messages >= this.#o.maxMessagesPerConversation) await this.#create(slot, target);
      else if (r < this.#o.readShare) await this.#read(slot, target);
      else if (r < this.#o.readShare + this.#o.replyShare) await this.#reply(slot, target);
      else await this.#write(slot, target);
    }
  }

  async #bursts(): Promise<void> {
    while (this.#running) {
      await sleep(this.#o.burstEveryMs);
      if (!this.#running) return;
      const slot = this.#slots[Math.floor(this.#random() * this.#slots.length)]!;
      const targets = this.#targets().filter((t) => t.up);
      if (slot.conversation === undefined || targets.length < 2) continue;
      const burst = this.#nextBurst++;
      await Promise.all(targets.map((t) => this.#reply(slot, t, burst)));
    }
  }

  async #create(slot: Slot, target = this.#pickTarget()): Promise<void> {
    if (target === undefined) return;
    const previous = slot.conversation;
    slot.conversation = undefined; // nobody uses it while it is replaced
    const op = await this.#request('create', target, slot.user, '', 'POST', '/api/conversations', {
      title: `soak ${this.#nextOpId}`,
    });
    if (op.ok && op.conversation !== '') {
      slot.conversation = op.conversation;
      slot.messages = 0;
    } else slot.conversation = previous;
  }

  async #read(slot: Slot, target: Target): Promise<void> {
    const c = slot.conversation!;
    await this.#request(
      'read',
      target,
      slot.user,
      c,
      'GET',
      `/api/conversations/${c}/messages?limit=${PAGE}`,
    );
  }

  async #write(slot: Slot, target: Target): Promise<void> {
    const c = slot.conversation!;
    slot.messages++;
    const text = `soak message ${this.#nextOpId} ${Math.floor(this.#random() * 1e9).toString(36)}`;
    await this.#request('write', target, slot.user, c, 'POST', `/api/conversations/${c}/messages`, { text });
  }

  async #reply(slot: Slot, target: Target, burst?: number): Promise<void> {
    const c = slot.conversation!;
    slot.messages++;
    await this.#request('reply', target, slot.user, c, 'POST', `/api/conversations/${c}/reply`, {}, burst);
  }

  async #request(
    kind: OpKind,
    target: Target,
    user: string,
    conversation: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    burst?: number,
  ): Promise<Op> {
    const op: Op = {
      id: this.#nextOpId++,
      kind,
      instance: target.index,
      user,
      conversation,
      start: this.#clock(),
      end: 0,
      ok: false,
      phase: this.phase,
      ...(burst === undefined ? {} : { burst }),
    };
    this.#history.ops.push(op);
    try {
      const answer = await send(target.url + path, method, user, body, this.#o.requestTimeoutMs);
      op.end = this.#clock();
      op.status = answer.status;
      op.ok = answer.status >= 200 && answer.status < 300;
      if (!op.ok) op.error = String(answer.body?.message ?? answer.body?.error ?? '').slice(0, 200);
      else interpret(op, answer.body ?? {});
    } catch (error) {
      op.end = this.#clock();
      const e = error as Error & { cause?: { code?: string } };
      op.error = e.cause?.code ?? e.name ?? String(error);
    }
    return op;
  }
}

/** Reads what an acknowledged answer says: the created id, the stored message, the page. */
function interpret(op: Op, body: Record<string, unknown>): void {
  const message = (body.message ?? body) as Record<string, unknown>;
  switch (op.kind) {
    case 'create':
      op.conversation = String(body.id ?? '');
      break;
    case 'write':
    case 'reply':
      if (message.id !== undefined) op.messageId = String(message.id);
      if (body.fallback === true) op.fallback = true;
      break;
    case 'read': {
      const messages = Array.isArray(body.messages) ? (body.messages as { id: unknown }[]) : [];
      op.seen = messages.map((m) => String(m.id));
      const more = body.nextCursor ?? body.next ?? body.before;
      if (messages.length >= PAGE || (more !== undefined && more !== null)) {
        op.truncated = true;
        op.floor = op.seen[0];
      }
      break;
    }
  }
}

async function send(
  url: string,
  method: string,
  user: string,
  body: unknown,
  timeoutMs: number,
): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: { 'x-user-id': user, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { error: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}
