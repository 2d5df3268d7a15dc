/** Builds the span exporter a `setupTracing` call asked for, loading only the peers it needs. */

import type { SpanExporter } from './export-pipeline.js';
import { loadPeers } from './peers.js';

/** Exporter names `setupTracing` accepts. */
export const EXPORTER_NAMES = ['otlp', 'otlp-proto', 'console', 'none'] as const;
export type ExporterName = (typeof EXPORTER_NAMES)[number];

/** Default OTLP/HTTP traces endpoint (what Jaeger all-in-one and the OpenTelemetry Collector listen on). */
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318/v1/traces';

interface OtlpModule {
  OTLPTraceExporter: new (config: {
    url: string;
    headers?: Record<string, string>;
    timeoutMillis?: number;
  }) => SpanExporter;
}

/** An exporter that accepts and discards everything (`exporter: 'none'`). */
export const NONE_EXPORTER: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

export function createExporter(
  name: ExporterName,
  endpoint: string,
  headers: Record<string, string>,
  timeoutMs: number,
): SpanExporter {
  switch (name) {
    case 'otlp':
    case 'otlp-proto': {
      const pkg =
        name === 'otlp'
          ? '@opentelemetry/exporter-trace-otlp-http'
          : '@opentelemetry/exporter-trace-otlp-proto';
      const mod = loadPeers<Record<string, OtlpModule>>(`exporter '${name}'`, [pkg])[pkg] as OtlpModule;
      return new mod.OTLPTraceExporter({ url: endpoint, headers, timeoutMillis: timeoutMs });
    }
    case 'console': {
      const mod = loadPeers<{
        '@opentelemetry/sdk-trace-base': { ConsoleSpanExporter: new () => SpanExporter };
      }>("exporter 'console'", ['@opentelemetry/sdk-trace-base'])['@opentelemetry/sdk-trace-base'];
      return new mod.ConsoleSpanExporter();
    }
    case 'none':
      return NONE_EXPORTER;
  }
}
