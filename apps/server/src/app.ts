/**
 * `buildApp()`: the Fastify instance with every route, hook and error mapping, not
 * listening. Tests drive it with `inject()`; the bin adds `listen()` and signal handling.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isTunable, type RedisClient, type StatefulExecutor } from '@stateful-route/executor-core';
import { createAnalyzer, type Analyzer } from '@stateful-route/analyzer';
import { instrumentExecutor } from '@stateful-route/metrics';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { DestinationStream } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { collectAllowedMethods } from './allowed-methods.js';
import { requireBearer } from './auth.js';
import { BackendAvailability } from './backend-availability.js';
import { createBackend } from './backend.js';
import { DEFAULT_CONFIG, type ServerConfig } from './config.js';
import { clientErrorHandler, debugEnabled, errorHandler } from './error-handler.js';
import { ConfigError, ServerErrorCodes } from './errors.js';
import { registerHttpMetrics } from './http-metrics.js';
import { createHttpServer, refuseNewRequests, type LogRef } from './http-server.js';
import { registerJsonBodyParser } from './json-body.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLinkRoutes } from './routes/links.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerOpenApi } from './routes/openapi.js';
import { registerOptimizationRoutes } from './routes/optimizations.js';
import { registerReportRoute, type AnalysisContext } from './routes/report.js';
import { PlacementSweeper } from './placement-sweeper.js';
import { registerPlacementRoutes } from './routes/placement.js';
import { registerPodRoutes } from './routes/pods.js';
import { registerWorkloadRoutes } from './routes/workloads.js';
import { formatSchemaError } from './schemas.js';
import { SERVER_VERSION } from './version.js';

/** Options of `buildApp`. Everything is optional: the defaults give the embedded backend. */
export interface BuildAppOptions {
  /** Configuration; missing fields take `DEFAULT_CONFIG`. */
  config?: Partial<ServerConfig>;
  /**
   * An executor to serve instead of building one from `config`. The app does not close an
   * injected executor unless `closeExecutor` is true.
   */
  executor?: StatefulExecutor;
  /** With an injected Redis executor: its client, for the Redis INFO figures on `/metrics`. */
  redis?: RedisClient | null;
  /** Close the executor when the app closes. Default: true only when the app built it. */
  closeExecutor?: boolean;
  /** The Prometheus registry to fill. Default: a new one (never prom-client's global). */
  registry?: Registry;
  /** Where logs go (a pino destination). Default: stdout. */
  logStream?: DestinationStream;
  /**
   * For the benchmark's ablation only (`bench/ablation-server.js`): features to leave out,
   * to measure what each costs. Not a configuration option: a server without them does not
   * keep the documented behaviour (no request validation, no auth, no metrics...).
   * @internal
   */
  without?: readonly AblatableFeature[];
  /**
   * Run the placement sweeper of `config.placementSweepMs` in this app. Default true. The bin
   * sets it false in every worker of `--workers` but the first, so that one process sweeps.
   */
  sweepPlacement?: boolean;
}

/**
 * The features the benchmark's ablation can leave out: request schema validation, the
 * bearer-token check, the HTTP request metrics, the executor metrics, the live analyzer
 * (which then watches no executor), and the request-id handling (`x-request-id` read and
 * echoed; Fastify's default ids instead).
 * @internal
 */
export type AblatableFeature = (typeof ABLATABLE)[number];

const ABLATABLE = [
  'validation',
  'auth',
  'http-metrics',
  'executor-metrics',
  'analyzer',
  'request-id',
] as const;

/** What the app exposes to its owner as `app.statefulRoute`. */
export interface ServerState {
  executor: StatefulExecutor;
  /** The live analyzer behind `/v1/report` and `/v1/optimizations`. */
  analyzer: Analyzer;
  registry: Registry;
  config: ServerConfig;
  /** Which backend serves, in words (the start-up log line). */
  backendSummary: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    statefulRoute: ServerState;
  }
}

// Generated request ids: a random per-process prefix and a counter, unique across replicas
// without the cost of a UUID per request.
const ID_PREFIX = `${randomBytes(6).toString('hex')}-`;
let requestCounter = 0;

/** Request ids: the caller's `x-request-id` when it is sane, else a generated one. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given)) return given;
  requestCounter = (requestCounter + 1) % Number.MAX_SAFE_INTEGER;
  return ID_PREFIX + requestCounter.toString(36);
}

/**
 * A URL as logged: the path, and the query's parameter names with their values redacted
 * (`?token=[redacted]`), since clients do send credentials in query strings.
 */
function redactQuery(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      if (equals >= 0) return `${part.slice(0, equals)}=[redacted]`;
      return part === '' ? '' : '[redacted]';
    })
    .join('&');
  return `${url.slice(0, start)}?${query}`;
}

// How a request appears in log lines (`req`): Fastify's default fields, with the query's
// values redacted.
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

// Per-request log lines at debug: at the default level a busy server logs only what went
// wrong (5xx and unavailable backends, from the error handler) and its lifecycle.
class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (debugEnabled(request.log)) {
      request.log.debug({ reqId: request.id, req: request }, 'incoming request');
    }
  }
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      reply.log.error(
        { res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    } else if (debugEnabled(reply.log)) {
      reply.log.debug(
        { reqId: request.id, res: reply, responseTime: reply.elapsedTime },
        'request completed',
      );
    }
  }
}

const SCRIPT_RETRY_MS = 1000;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/**
 * Builds the server without listening: routes under `/v1`, `/metrics`, `/healthz`,
 * `/readyz` and `/docs/openapi.json`, one error handler, HTTP and executor metrics.
 * Loads the Redis scripts before returning (and keeps retrying in the background when Redis
 * is not reachable yet: `/readyz` answers 503 until they are loaded).
 * @example
 * const app = await buildApp({ config: { logLevel: 'silent' } }); // embedded backend
 * const reply = await app.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildApp(options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...options.config };
  const without = new Set<string>(options.without ?? []);
  for (const feature of without) {
    if (!(ABLATABLE as readonly string[]).includes(feature)) {
      throw new ConfigError('without', `unknown feature "${feature}" (${ABLATABLE.join(', ')})`);
    }
  }
  // Set once the Fastify logger exists; the Redis clients are created before it.
  const logRef: { current?: FastifyBaseLogger } = {};
  let executor: StatefulExecutor;
  let redis: RedisClient | null;
  let backendSummary: string;
  let closeExecutor: boolean;
  // The INFO client of a backend built here (an injected `redis` stays the caller's).
  let infoClient: RedisClient | null = null;
  if (options.executor) {
    executor = options.executor;
    redis = options.redis ?? null;
    const description = executor.describe();
    backendSummary =
      description.backend === 'memory'
        ? 'embedded in-memory backend (injected executor): data lives in this process and is lost on exit'
        : `injected Redis executor (${description.topology})`;
    closeExecutor = options.closeExecutor ?? false;
  } else {
    // Connection errors repeat on every reconnect attempt: log the first, then one per 10 s.
    let lastLogged = 0;
    const onClientError = (error: Error): void => {
      const now = Date.now();
      if (now - lastLogged < 10_000) return;
      lastLogged = now;
      logRef.current?.warn(
        { code: (error as { code?: string }).code },
        `Redis connection error: ${error.message}`,
      );
    };
    const backend = createBackend(config, 'server', onClientError);
    ({ executor, redis } = backend);
    infoClient = redis;
    backendSummary = backend.summary;
    closeExecutor = options.closeExecutor ?? true;
  }
  const registry = options.registry ?? new Registry();
  let analyzer: Analyzer;
  let app: FastifyInstance;
  const serverLog: LogRef = {};
  try {
    app = createFastify(config, options, serverLog, !without.has('request-id'));
    serverLog.current = app.log;
    analyzer = without.has('analyzer')
      ? createAnalyzer({ executor: '(ablation: no executor)', processMetrics: false })
      : createAnalyzer({ executor, ...(redis ? { redis } : {}) });
  } catch (error) {
    if (closeExecutor) await executor.close();
    infoClient?.disconnect();
    throw error;
  }
  // From here on, app.close() releases everything acquired so far (see the onClose hook).
  let disposeMetrics: (() => void) | undefined;
  let availability: BackendAvailability | undefined;
  let placementSweeper: PlacementSweeper | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
    if (sweep) clearInterval(sweep);
    if (retry) clearTimeout(retry);
    // Before the executor closes: a run in progress stops between services and is awaited.
    await placementSweeper?.close();
    disposeMetrics?.();
    availability?.close();
    analyzer.close();
    if (closeExecutor) await executor.close();
    infoClient?.disconnect();
  });
  try {
    await assemble();
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  return app;

  async function assemble(): Promise<void> {
    logRef.current = app.log;
    app.decorate('statefulRoute', { executor, analyzer, registry, config, backendSummary });
    // One per app: an outage is logged once per state change, not once per request.
    const backendState = new BackendAvailability(app.log, executor.name);
    availability = backendState;
    app.setErrorHandler((error, request, reply) =>
      errorHandler(error, request, reply, backendState),
    );
    // Before the routes: it collects them as they are registered.
    const allowedMethods = collectAllowedMethods(app);
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!;
      const allowed = allowedMethods(path);
      if (allowed) {
        const allow = allowed.methods.join(', ');
        void reply
          .code(405)
          .header('allow', allow)
          .send({
            error: {
              code: ServerErrorCodes.METHOD_NOT_ALLOWED,
              message: `${request.method} is not allowed on ${allowed.route} (allowed: ${allow})`,
            },
          });
        return;
      }
      void reply.code(404).send({
        error: {
          code: ServerErrorCodes.NOT_FOUND,
          message: `no route for ${request.method} ${truncate(path, 200)}`,
        },
      });
    });
    if (!without.has('request-id')) {
      app.addHook('onRequest', (request, reply, done) => {
        void reply.header('x-request-id', request.id);
        done();
      });
    }
    if (without.has('validation')) app.setValidatorCompiler(() => () => true);
    // Before the routes: plugins copy their parent's content-type parsers when registered.
    registerJsonBodyParser(app);

    collectDefaultMetrics({ register: registry });
    if (!without.has('http-metrics')) registerHttpMetrics(app, registry);
    if (!without.has('executor-metrics')) {
      disposeMetrics = instrumentExecutor({
        registry,
        executorInstance: executor,
        buildInfo: { version: SERVER_VERSION },
        ...(redis ? { redis } : {}),
      });
    }

    await registerOpenApi(
      app,
      {
        title: 'stateful-route server',
        version: SERVER_VERSION,
        description:
          'Sticky-routing state of stateful services over HTTP: pod and workload states, user -> pod links.',
      },
      (url) =>
        (url.startsWith('/v1/') && config.token !== null) ||
        (url === '/metrics' && config.metricsToken !== null),
    );
    const context: AnalysisContext = { executor, config, analyzer, redis };
    if (config.placementSweepMs > 0 && options.sweepPlacement !== false) {
      placementSweeper = new PlacementSweeper({
        executor,
        redis,
        intervalMs: config.placementSweepMs,
        log: app.log,
        registry,
      });
    }
    const sweeper = placementSweeper;
    registerHealthRoutes(app, context);
    registerMetricsRoute(app, registry, config.metricsToken);
    await app.register(
      async (v1) => {
        if (config.token && !without.has('auth')) {
          const check = requireBearer(config.token);
          v1.addHook('onRequest', check);
        }
        registerPodRoutes(v1, context);
        registerWorkloadRoutes(v1, context);
        registerLinkRoutes(v1, context);
        registerPlacementRoutes(v1, {
          ...context,
          onPlacementService: sweeper ? (ns, svc) => sweeper.track(ns, svc) : undefined,
        });
        registerReportRoute(v1, context);
        registerOptimizationRoutes(v1, context);
      },
      { prefix: '/v1' },
    );

    // From now on a request that arrives on an open connection gets 503 SR_SHUTTING_DOWN.
    // Keep-alive connections that were busy when close() began become idle only after their
    // last response; close them as they do, or a client's keep-alive holds shutdown open until
    // the keep-alive timeout.
    app.addHook('preClose', (done) => {
      refuseNewRequests(app.server);
      sweep = setInterval(() => app.server.closeIdleConnections(), 25);
      sweep.unref();
      done();
    });

    app.log.info(
      { backend: executor.backend, auth: config.token !== null },
      `backend: ${backendSummary}`,
    );
    placementSweeper?.start();
    if (isTunable(executor)) {
      const load = async (): Promise<void> => {
        try {
          await executor.loadScripts();
          app.log.info('Redis scripts loaded');
        } catch (error) {
          if (closing) return;
          app.log.warn(
            { code: (error as { code?: string }).code },
            `could not load the Redis scripts yet (${(error as Error).message}); retrying every ${SCRIPT_RETRY_MS} ms`,
          );
          retry = setTimeout(() => void load(), SCRIPT_RETRY_MS);
          retry.unref();
        }
      };
      await load();
    }
  }
}

/** The Fastify instance with the server's options (logging, limits, strict schemas). */
function createFastify(
  config: ServerConfig,
  options: BuildAppOptions,
  serverLog: LogRef,
  ownRequestIds: boolean,
): FastifyInstance {
  return Fastify({
    // Timeouts, the connection cap and the pipelining cap live on the Node server.
    serverFactory: (handler) => createHttpServer(handler, config, serverLog),
    clientErrorHandler,
    logger: {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
      serializers: { req: serializeRequest },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    logController: new RequestLogController(),
    // No child logger per request (a pino child costs microseconds on every request): the
    // few lines written per request carry `reqId` explicitly.
    childLoggerFactory: (logger) => logger,
    ...(ownRequestIds ? { genReqId: requestId } : {}),
    bodyLimit: config.bodyLimit,
    // A 512-byte id is up to 1536 characters once percent-encoded; longer ids must reach the
    // executor's length rule (400) instead of falling out of the router as a 404.
    routerOptions: { maxParamLength: 16384 },
    ajv: {
      // Strict JSON types: "3" is not a pod id, and unknown properties are refused, not
      // silently dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
    schemaErrorFormatter: (errors, dataVar) => formatSchemaError(errors, dataVar),
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    // The 503 while closing is refuseNewRequests' (in the documented error shape).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
}
