/**
 * The demo server: Fastify 5 with zod validation, the chat routes, /metrics and /dashboard from
 * @perf/metrics, health probes, correlation ids and trace ids from @perf/tracing in every log line,
 * and a bounded graceful shutdown that flushes the spans last.
 * `startDemo()` listens at once (so /healthz answers) and gets ready in the background
 * (database, migrations, seed, cache warm-up); `/readyz` says when.
 */
import { type AlertRule, createMetrics, type Metrics } from '@perf/metrics';
import { createRedisBreakerSync, type RedisBreakerSync } from '@perf/resilience';
import {
  CORRELATION_HEADER,
  correlationIdFromHeaders,
  correlationPlugin,
  createCorrelationId,
  pinoMixin,
  type TracingHandle,
} from '@perf/tracing';
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { AssistantClient } from './assistant-client.js';
import { AssistantUpstream } from './assistant-upstream.js';
import { ChatService } from './chat-service.js';
import { configSchema, type DemoConfig, type DemoConfigInput } from './config.js';
import { Database } from './database.js';
import { NotFoundError, NotReadyError } from './models.js';
import { createDemoRedis } from './redis-client.js';
import {
  conversationParams,
  createConversationBody,
  createMessageBody,
  historyQuery,
  userHeaders,
  zodValidatorCompiler,
} from './validation.js';
import { CHAT_PAGE } from './web-page.js';

export interface DemoStats {
  historyReads: number;
  historyQueries: number;
  dbQueries: number;
  history: ReturnType<NonNullable<ChatService['history']>['stats']> | undefined;
  sessions: ReturnType<NonNullable<ChatService['sessions']>['stats']> | undefined;
  readDedup: ReturnType<ChatService['readDedup']['stats']>;
  replyDedup: ReturnType<ChatService['replyDedup']['stats']>;
  breaker: ReturnType<AssistantClient['breaker']['stats']>;
  breakerTransitions: AssistantClient['transitions'];
  upstream: { calls: number; callsDuringOutage: number } | undefined;
}

export interface Demo {
  readonly config: DemoConfig;
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The in-process assistant upstream (absent when `assistantUrl` points elsewhere). */
  readonly upstream: AssistantUpstream | undefined;
  readonly assistant: AssistantClient;
  /** Resolves once the database is migrated and seeded and the caches are warm; rejects if that failed. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** The service behind the routes (undefined until ready). */
  service(): ChatService | undefined;
  stats(): DemoStats | undefined;
  /** Stops accepting, drains in-flight requests, closes everything; true when it drained in time. */
  close(): Promise<boolean>;
}

function alertRules(c: DemoConfig, historyNamespace: string): AlertRule[] {
  const historyReads = {
    signal: 'cache_operation_duration' as const,
    match: { namespace: historyNamespace, operation: 'getOrSet' },
  };
  return [
    {
      name: 'HistoryHitRatioLow',
      // hit ratio < 90% is a miss ratio > 10%: reads the factory (the database) had to answer.
      expr: {
        ratio: {
          numerator: { ...historyReads, match: { ...historyReads.match, result: 'factory' } },
          denominator: historyReads,
        },
        window: '1m',
      },
      op: '>',
      threshold: 0.1,
      for: '30s',
      severity: 'warning',
      annotations: { summary: 'history cache hit ratio below 90%' },
    },
    {
      name: 'AssistantBreakerOpen',
      expr: { value: { signal: 'breaker_state', match: { name: 'assistant', state: 'open' } } },
      op: '>',
      threshold: 0,
      for: '30s',
      severity: 'critical',
      annotations: { summary: 'assistant breaker open for more than 30 s' },
    },
    {
      name: 'ApiP99OverBudget',
      expr: { quantile: 0.99, of: { signal: 'http_request_duration' }, window: '1m' },
      op: '>',
      threshold: c.p99BudgetMs / 1000,
      for: '1m',
      severity: 'warning',
      annotations: { summary: `API p99 above ${c.p99BudgetMs} ms` },
    },
  ];
}

export interface DemoRuntime {
  /** From `setupTracing` (see tracing.ts): `close()` shuts it down last, flushing every span. */
  tracing?: TracingHandle | undefined;
}

/** Fastify's request id is the correlation id: the caller's when valid, else a new one. */
function requestCorrelationId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const incoming = correlationIdFromHeaders(req.headers);
  if (incoming !== undefined) return incoming;
  const id = createCorrelationId();
  // correlationPlugin reads the same header next, so both agree on the fresh id too.
  req.headers[CORRELATION_HEADER] = id;
  return id;
}

// Fastify binds the id to every line of the request (`correlation_id`); the mixin adds the active
// trace and span ids, not the id a second time.
const traceFields = pinoMixin();
function logMixin(): Record<string, string> {
  const { correlation_id: _bound, ...fields } = traceFields();
  return fields;
}

/** Starts the demo: listening when this resolves, ready when `demo.ready` does. */
export async function startDemo(input: DemoConfigInput = {}, runtime: DemoRuntime = {}): Promise<Demo> {
  const config = configSchema.parse(input);
  const upstream = config.assistantUrl
    ? undefined
    : new AssistantUpstream({ latencyMs: config.assistantLatencyMs, errorRate: config.assistantErrorRate });
  const assistantUrl = config.assistantUrl ?? (await upstream!.listen());

  // One client (or Cluster) for the caches, dedup and breaker sharing.
  const redis = createDemoRedis(config);
  const breakerSync: RedisBreakerSync | undefined = redis
    ? createRedisBreakerSync({ redis, channel: `${config.redisPrefix}:breakers` })
    : undefined;
  const assistant = new AssistantClient({
    url: assistantUrl,
    timeoutMs: config.assistantTimeoutMs,
    halfOpenAfterMs: config.breakerHalfOpenAfterMs,
    sync: breakerSync,
  });

  const historyNamespace = `${config.redisPrefix}.history`;
  const metrics = createMetrics({
    dashboard: { title: '@perf demo chat', intervalMs: 1000 },
    alerts: { rules: alertRules(config, historyNamespace), evaluateEveryMs: 5000 },
  });

  const app = Fastify({
    logger: { level: config.logLevel, mixin: logMixin },
    bodyLimit: config.bodyLimitBytes,
    // Correlation ids (@perf/tracing): the caller's x-correlation-id or x-request-id when valid, else
    // a new UUID; in every log line as `correlation_id`, echoed in the response by correlationPlugin,
    // and passed on to the assistant upstream with the trace by propagatingFetch.
    requestIdHeader: false,
    logController: new LogController({
      requestIdLogLabel: 'correlation_id',
      // Fastify logs "incoming request" before any hook, outside the request's span; the hooks
      // below log the same two lines from inside it, so they carry the trace and span ids too.
      disableRequestLogging: true,
    }),
    genReqId: requestCorrelationId,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  // First, so every later hook and handler runs inside the request's correlation and SERVER span.
  await app.register(correlationPlugin);
  if (config.requestLogging) {
    app.addHook('onRequest', (request, _reply, done) => {
      request.log.info({ req: request }, 'incoming request');
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
      done();
    });
  }

  let db: Database | undefined;
  let service: ChatService | undefined;
  let draining = false;
  const need = (): ChatService => {
    if (draining) throw new NotReadyError('shutting down');
    if (!service) throw new NotReadyError('starting: database and caches not ready yet');
    return service;
  };

  // A callback hook, not an async one: it runs on every response, and a promise per request adds up.
  app.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, each answered request also closes its keep-alive connection.
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setErrorHandler((error: FastifyError & { field?: string }, request, reply) => {
    if (error.validation !== undefined || error.code === 'FST_ERR_VALIDATION') {
      return reply.code(400).send({ error: 'Bad Request', message: error.message, field: error.field });
    }
    if (error instanceof NotFoundError)
      return reply.code(404).send({ error: 'Not Found', message: error.message });
    if (error instanceof NotReadyError) {
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: 'Service Unavailable', message: error.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'Internal Server Error' : error.name, message: error.message });
  });
  await app.register(
    metrics.fastifyPlugin({
      ignore: (req) => req.url === '/metrics' || (req.url ?? '').startsWith('/dashboard'),
    }),
  );

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(CHAT_PAGE));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ok = service !== undefined && !draining;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : draining ? 'draining' : 'starting' });
  });
  app.get('/metrics', (request, reply) => {
    reply.hijack();
    metrics.handler(request.raw, reply.raw);
  });
  app.get('/dashboard', (request, reply) => {
    reply.hijack();
    metrics.dashboard(request.raw, reply.raw);
  });

  const user = { headers: userHeaders };
  app.get('/api/conversations', { schema: user }, async (request) => {
    const userId = request.headers['x-user-id'] as string;
    return { conversations: await need().listConversations(userId) };
  });
  app.post(
    '/api/conversations',
    { schema: { ...user, body: createConversationBody } },
    async (request, reply) => {
      const { title } = request.body as { title: string };
      const conversation = await need().createConversation(request.headers['x-user-id'] as string, title);
      return reply.code(201).send(conversation);
    },
  );
  app.get(
    '/api/conversations/:id/messages',
    { schema: { ...user, params: conversationParams, querystring: historyQuery } },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const q = request.query as { limit: number; before?: number };
      const body = await need().messagesBody(request.headers['x-user-id'] as string, id, q);
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );
  app.post(
    '/api/conversations/:id/messages',
    { schema: { ...user, params: conversationParams, body: createMessageBody } },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const { text } = request.body as { text: string };
      return reply.code(201).send(await need().addMessage(request.headers['x-user-id'] as string, id, text));
    },
  );
  app.post(
    '/api/conversations/:id/reply',
    { schema: { ...user, params: conversationParams } },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const result = await need().reply(request.headers['x-user-id'] as string, id);
      request.log.info(
        { conversation: id, fallback: result.fallback, reason: result.reason },
        'assistant replied',
      );
      return reply.code(201).send(result);
    },
  );

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;

  const ready = (async () => {
    db = await Database.open({
      url: config.databaseUrl,
      seed: {
        conversations: config.seedConversations,
        users: config.seedUsers,
        messagesPerConversation: config.seedMessages,
      },
    });
    const s = new ChatService({
      db,
      assistant,
      caching: config.caching,
      redis,
      redisPrefix: config.redisPrefix,
    });
    const warmed = config.warm ? await s.warm(config.seedConversations) : 0;
    service = s;
    app.log.info(
      {
        database: db.kind,
        redis: redis === undefined ? false : config.redisClusterNodes ? 'cluster' : true,
        warmed,
        url,
      },
      'demo ready',
    );
  })();
  ready.catch((error) => app.log.error({ err: error }, 'demo failed to start'));

  let closing: Promise<boolean> | undefined;
  const close = (): Promise<boolean> => {
    closing ??= (async () => {
      draining = true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs);
        timer.unref();
      });
      // Dashboard streams never end by themselves: metrics.close() ends them so the server can drain.
      const drained = Promise.all([app.close(), metrics.close()]).then(() => true);
      // Connections that finish their last request during the drain go idle; close them as they do.
      const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
      drained.finally(() => clearInterval(reaper)).catch(() => {});
      const inTime = await Promise.race([drained, timedOut]);
      if (!inTime) app.server.closeAllConnections();
      clearTimeout(timer);
      clearInterval(reaper);
      await ready.catch(() => {});
      await service?.close();
      assistant.close();
      breakerSync?.close();
      await redis?.quit().catch(() => redis.disconnect());
      await db?.close();
      await upstream?.close();
      // Last: the spans of everything above are finished now, and this exports them.
      await runtime.tracing?.shutdown();
      return inTime;
    })();
    return closing;
  };

  return {
    config,
    app,
    metrics,
    url,
    upstream,
    assistant,
    ready,
    isReady: () => service !== undefined,
    service: () => service,
    close,
    stats: () => {
      if (!service || !db) return undefined;
      return {
        historyReads: service.historyReads,
        historyQueries: service.historyQueries,
        dbQueries: db.queries,
        history: service.history?.stats(),
        sessions: service.sessions?.stats(),
        readDedup: service.readDedup.stats(),
        replyDedup: service.replyDedup.stats(),
        breaker: assistant.breaker.stats(),
        breakerTransitions: assistant.transitions,
        upstream: upstream
          ? { calls: upstream.calls, callsDuringOutage: upstream.callsDuringOutage }
          : undefined,
      };
    },
  };
}
