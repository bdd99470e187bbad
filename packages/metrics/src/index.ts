/**
 * @stateful-route/metrics: Prometheus metrics (prom-client) for the stateful-route executor,
 * fed from its diagnostics channels, on a registry the application owns.
 */
export { instrumentExecutor } from './instrument.js';
export { DEFAULT_BUCKETS, DEFAULT_PREFIX } from './options.js';
export type { InstrumentOptions } from './options.js';
export {
  MetricsErrorCodes,
  MetricsError,
  MetricsOptionsError,
  MetricsConflictError,
} from './errors.js';
export type { MetricsErrorCode } from './errors.js';
