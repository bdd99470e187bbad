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
export { fromExposition, parseExposition, histogramQuantile } from './exposition.js';
export type {
  FromExpositionOptions,
  ParsedExposition,
  ExpositionSample,
  CumulativeBucket,
} from './exposition.js';
export { compare, assertSnapshot } from './compare.js';
export type { CompareOptions, Comparison, OperationComparison, SideFigures } from './compare.js';
export {
  parseThreshold,
  checkThresholds,
  THRESHOLD_METRICS,
  LATENCY_METRICS,
} from './threshold.js';
export type { Threshold, ThresholdMetric, ThresholdResult, Comparator } from './threshold.js';
export { mannWhitney, welchT, studentTwoSided } from './statistics.js';
export type { MannWhitneyResult, WelchResult } from './statistics.js';
export {
  AnalyzerErrorCodes,
  AnalyzerErrorDescriptions,
  AnalyzerError,
  InvalidOptionError,
  ThresholdSyntaxError,
  ExpositionParseError,
  SnapshotSchemaError,
} from './errors.js';
export type { AnalyzerErrorCode } from './errors.js';
