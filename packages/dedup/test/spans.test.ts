import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  type Context,
  type ContextManager,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deduplicator, SpanAttributes } from '../src/index.js';
import { deferred, outcome } from './helpers.js';

/** A minimal recording span: enough to see names, links, attributes, status and ends. */
class RecordedSpan implements Span {
  readonly attributes: Record<string, unknown> = {};
  readonly links: Link[];
  readonly context: SpanContext;
  status: { code: SpanStatusCode; message?: string } = { code: SpanStatusCode.UNSET };
  ended = false;
  exceptions: unknown[] = [];
  constructor(
    readonly name: string,
    options: SpanOptions | undefined,
    readonly tracerName: string,
  ) {
    this.links = options?.links ?? [];
    this.context = {
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: 1,
    };
  }
  spanContext() {
    return this.context;
  }
  setAttribute(key: string, value: unknown) {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(values: Record<string, unknown>) {
    Object.assign(this.attributes, values);
    return this;
  }
  addEvent() {
    return this;
  }
  addLink(link: Link) {
    this.links.push(link);
    return this;
  }
  addLinks(links: Link[]) {
    this.links.push(...links);
    return this;
  }
  setStatus(status: { code: SpanStatusCode; message?: string }) {
    this.status = status;
    return this;
  }
  updateName() {
    return this;
  }
  end() {
    this.ended = true;
  }
  isRecording() {
    return !this.ended;
  }
  recordException(exception: unknown) {
    this.exceptions.push(exception);
  }
}

const spans: RecordedSpan[] = [];

class RecordingTracer implements Tracer {
  constructor(readonly name: string) {}
  startSpan(name: string, options?: SpanOptions): Span {
    const span = new RecordedSpan(name, options, this.name);
    spans.push(span);
    return span;
  }
  startActiveSpan(): never {
    throw new Error('not used');
  }
}

const provider: TracerProvider = { getTracer: (name: string) => new RecordingTracer(name) };

/** AsyncLocalStorage-backed context manager (what @opentelemetry/context-async-hooks provides). */
class AlsContextManager implements ContextManager {
  #als = new AsyncLocalStorage<Context>();
  active() {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable() {
    return this;
  }
  disable() {
    return this;
  }
}

describe('Deduplicator spans (OpenTelemetry API)', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AlsContextManager());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('gives the leader a span that wraps the work, and links each follower span to it', async () => {
    spans.length = 0;
    const dedup = new Deduplicator({ name: 'traced' });
    const gate = deferred<string>();
    let activeInFn: Span | undefined;
    const leader = dedup.runDetailed('k', () => {
      activeInFn = trace.getActiveSpan();
      return gate.promise;
    });
    const follower = dedup.runDetailed('k', () => gate.promise);
    gate.resolve('v');
    const [l, f] = await Promise.all([leader, follower]);

    const leaderSpan = spans.find((s) => s.name === 'dedup.run')!;
    const followerSpan = spans.find((s) => s.name === 'dedup.join')!;
    expect(leaderSpan.tracerName).toBe('@perf/dedup');
    expect(activeInFn).toBe(leaderSpan); // fn's own spans nest under the leader's span
    expect(leaderSpan.attributes).toMatchObject({
      [SpanAttributes.name]: 'traced',
      [SpanAttributes.role]: 'leader',
      [SpanAttributes.correlationId]: l.info.correlationId,
      [SpanAttributes.outcome]: 'success',
    });
    expect(followerSpan.links.map((link) => link.context.spanId)).toEqual([leaderSpan.context.spanId]);
    expect(followerSpan.attributes).toMatchObject({
      [SpanAttributes.role]: 'follower',
      [SpanAttributes.correlationId]: f.info.correlationId,
      [SpanAttributes.leaderCorrelationId]: l.info.correlationId,
    });
    expect(leaderSpan.ended && followerSpan.ended).toBe(true);
  });

  it('marks failed calls with an error status and records the exception on the leader', async () => {
    spans.length = 0;
    const dedup = new Deduplicator();
    const error = new Error('upstream down');
    const gate = deferred<string>();
    const calls = [dedup.run('k', () => gate.promise), dedup.run('k', () => gate.promise)].map(outcome);
    gate.reject(error);
    await Promise.all(calls);
    for (const span of spans) {
      expect(span.ended).toBe(true);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    }
    expect(spans.find((s) => s.name === 'dedup.run')?.exceptions).toEqual([error]);
  });

  it('emits nothing with spans: false', async () => {
    spans.length = 0;
    const dedup = new Deduplicator({ spans: false });
    await Promise.all([dedup.run('k', async () => 1), dedup.run('k', async () => 1)]);
    expect(spans).toHaveLength(0);
  });
});
