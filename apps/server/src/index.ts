/**
 * @stateful-route/server: the stateful-route executor over HTTP (Fastify), with Prometheus
 * metrics. `buildApp()` gives a Fastify instance that is not listening; the
 * `stateful-route-server` bin adds configuration, `listen()` and graceful shutdown.
 */
export { buildApp } from './app.js';
export type { BuildAppOptions, ServerState } from './app.js';
export { loadConfig, DEFAULT_CONFIG, LOG_LEVELS, USAGE } from './config.js';
export type { ServerConfig, ClusterSeed, LogLevel, LoadedConfig } from './config.js';
export { createBackend, redactUrl } from './backend.js';
export type { Backend } from './backend.js';
export {
  ServerErrorCodes,
  ServerErrorDescriptions,
  ServerError,
  RequestValidationError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ConfigError,
  STATUS_OF_CODE,
  statusOfCode,
} from './errors.js';
export type { ServerErrorCode, ReplyErrorCode } from './errors.js';
export { mapError } from './error-handler.js';
export type { ErrorBody, MappedError } from './error-handler.js';
export { HTTP_BUCKETS, UNMATCHED_ROUTE } from './http-metrics.js';
export type { LinkMode } from './routes/links.js';
