/**
 * The export path: redaction at `onEnding`, a bounded queue whose drops are counted, and an
 * exporter wrapper that counts what was exported or failed. The SDK's BatchSpanProcessor does
 * the batching; we stand in front of it because it resets its own drop count when it logs.
 */
import { type Context, type Span, TraceFlags } from '@opentelemetry/api';
import { type RedactionConfig, spanRedactor } from './redaction.js';

/** OpenTelemetry's `ExportResult`: code 0 success, 1 failed. */
export interface ExportResult {
  code: number;
  error?: Error;
}

/** An OpenTelemetry `SpanExporter` (any SDK exporter fits). */
export interface SpanExporter {
  export(spans: ReadableSpanLike[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** The part of an SDK `ReadableSpan` this package reads. */
export interface ReadableSpanLike {
  readonly name: string;
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
}

/** An OpenTelemetry `SpanProcessor`. */
export interface SpanProcessorLike {
  onStart(span: Span, parentContext: Context): void;
  onEnding?(span: Span): void;
  onEnd(span: ReadableSpanLike): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What happened to sampled spans after they ended. */
export interface ExportStats {
  /** Spans the exporter confirmed. */
  exported: number;
  /** Spans in batches the exporter reported failed (endpoint down, rejected...). */
  failed: number;
  /** Spans dropped because the queue was full (`maxQueueSize`); never queued, never sent. */
  dropped: number;
  /** Spans waiting in the queue or in an export under way (at most `batch.maxQueueSize`). */
  pending: number;
}

export class ExportCounters {
  ended = 0;
  exported = 0;
  failed = 0;
  dropped = 0;

  snapshot(): ExportStats {
    return {
      exported: this.exported,
      failed: this.failed,
      dropped: this.dropped,
      pending: this.ended - this.exported - this.failed,
    };
  }
}

/**
 * Counts each batch the batch processor hands to `inner`, and its outcome. An export that has not
 * answered after `timeoutMs` counts as failed, so an exporter that never calls back cannot hold
 * the queue's room forever.
 */
export function countingExporter(
  inner: SpanExporter,
  counters: ExportCounters,
  timeoutMs: number,
): SpanExporter {
  return {
    export(spans, done) {
      let settled = false;
      const settle = (result: ExportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (result.code === 0) counters.exported += spans.length;
        else counters.failed += spans.length;
        done(result);
      };
      const timer = setTimeout(
        () => settle({ code: 1, error: new Error(`export did not answer within ${timeoutMs} ms`) }),
        timeoutMs,
      );
      timer.unref();
      try {
        inner.export(spans, settle);
      } catch (error) {
        settle({ code: 1, error: error as Error });
      }
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * Sits in front of the batch processor: redacts at `onEnding`, then refuses (and counts) a span
 * when the pipeline already holds `maxQueueSize` spans, queued or in an export under way. The
 * batch processor alone bounds only its queue: with the endpoint down, batches being retried by
 * the OTLP exporter would hold thousands more.
 */
export function boundedProcessor(
  batch: SpanProcessorLike,
  counters: ExportCounters,
  maxQueueSize: number,
  redaction: RedactionConfig,
): SpanProcessorLike {
  const redact = spanRedactor(redaction);
  return {
    onStart: (span, ctx) => batch.onStart(span, ctx),
    onEnding(span) {
      redact(span);
      batch.onEnding?.(span);
    },
    onEnd(span) {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      if (counters.ended - counters.exported - counters.failed >= maxQueueSize) {
        counters.dropped++;
        return;
      }
      counters.ended++;
      batch.onEnd(span);
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  };
}
