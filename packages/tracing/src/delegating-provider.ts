/**
 * A tracer provider that forwards to whichever SDK provider `setupTracing` installed last (or to
 * the no-op tracer after `shutdown()`). Libraries take their tracer once, at import
 * (`trace.getTracer(...)` at module level), and the API's proxy caches the first real tracer it
 * sees: without this indirection, spans of a library imported before a shutdown and a second
 * `setupTracing` would keep going to the first, shut-down provider.
 */
import {
  type Context,
  ProxyTracerProvider,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerOptions,
  type TracerProvider,
} from '@opentelemetry/api';

// A private ProxyTracerProvider never receives a delegate, so its tracers are the API's no-op.
const NOOP_TRACER: Tracer = new ProxyTracerProvider().getTracer('@perf/tracing/noop');

// Shared by every copy of this package in the process (ESM and CJS builds, duplicate installs).
interface ForwardingState {
  current: TracerProvider | undefined;
  generation: number;
}
const STATE = Symbol.for('@perf/tracing/forwarding');
const shared = globalThis as Record<symbol, ForwardingState | undefined>;
shared[STATE] ??= { current: undefined, generation: 0 };
const state: ForwardingState = shared[STATE];

/** True while `setupTracing` has a live SDK provider behind the forwarding one. */
export function hasCurrentProvider(): boolean {
  return state.current !== undefined;
}

/** Sets (or clears) the provider every forwarded tracer uses. */
export function setCurrentProvider(provider: TracerProvider | undefined): void {
  state.current = provider;
  state.generation++;
}

class ForwardingTracer implements Tracer {
  #tracer: Tracer = NOOP_TRACER;
  #generation = -1;
  readonly #name: string;
  readonly #version: string | undefined;
  readonly #options: TracerOptions | undefined;

  constructor(name: string, version: string | undefined, options: TracerOptions | undefined) {
    this.#name = name;
    this.#version = version;
    this.#options = options;
  }

  #resolve(): Tracer {
    if (this.#generation !== state.generation) {
      const p = state.current;
      this.#tracer = p ? p.getTracer(this.#name, this.#version, this.#options) : NOOP_TRACER;
      this.#generation = state.generation;
    }
    return this.#tracer;
  }

  startSpan(name: string, options?: SpanOptions, context?: Context): Span {
    return this.#resolve().startSpan(name, options, context);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    context: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan(name: string, ...rest: unknown[]): unknown {
    const t = this.#resolve() as unknown as { startActiveSpan: (...args: unknown[]) => unknown };
    return t.startActiveSpan(name, ...rest);
  }
}

/** The one provider registered with the API while @perf/tracing is set up. */
export const forwardingProvider: TracerProvider = {
  getTracer: (name, version, options) => new ForwardingTracer(name, version, options),
};
