/**
 * @stateful-route/analyzer: measures how a stateful-route executor performs (latency
 * percentiles, throughput, errors, process and Redis figures), reads the same figures from
 * a server's Prometheus exposition, compares runs, and drives the benchmark workload.
 */
export { createAnalyzer } from './analyzer.js';
export type { Analyzer, AnalyzerOptions, OperationSample, SnapshotOptions } from './analyzer.js';
export { runWorkload, DEFAULT_MIX } from './workload.js';
export type { WorkloadOptions, WorkloadProgress, WorkloadResult } from './workload.js';
export { SNAPSHOT_SCHEMA_VERSION, ERROR_TYPES, emptyErrorsByType } from './snapshot.js';
export type {
  AnalysisSnapshot,
  SnapshotSource,
  SnapshotProvenance,
  OperationSnapshot,
  LatencySummary,
  CompactHistogram,
  TimelineSlice,
  TotalsSnapshot,
  ProcessSnapshot,
  RedisSnapshot,
  CommandStatsDelta,
  ConcurrencySnapshot,
} from './snapshot.js';
export type { RedisInfoSource } from './redis-info.js';
export {
  AnalyzerErrorCodes,
  AnalyzerError,
  InvalidOptionError,
  ThresholdSyntaxError,
  ExpositionParseError,
  SnapshotSchemaError,
} from './errors.js';
export type { AnalyzerErrorCode } from './errors.js';
