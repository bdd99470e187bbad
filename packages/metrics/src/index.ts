/**
 * @stateful-route/metrics: Prometheus metrics (prom-client) for the stateful-route executor,
 * read from what the executors record (and their diagnostics channels), on a registry the
 * application owns.
 */
export { instrumentExecutor } from './instrument.js';
export { DEFAULT_BUCKETS, DEFAULT_PREFIX } from './options.js';
export { BUILD_INFO_METRIC } from './build-info.js';
export type { InstrumentOptions } from './options.js';
export { bucketLabels, histogramSamples } from './histogram-samples.js';
export type { Sample } from './metric-family.js';
export {
  MetricsErrorCodes,
  MetricsErrorDescriptions,
  MetricsError,
  MetricsOptionsError,
  MetricsConflictError,
} from './errors.js';
export type { MetricsErrorCode } from './errors.js';
