/**
 * @stateful-route/executor-core: sticky-routing state of stateful services in Redis
 * (standalone or Cluster) or in memory, wire-compatible with the Java and Go executors.
 */
export { createRedisExecutor, RedisExecutor } from './redis/redis-executor.js';
export type { RedisExecutorOptions, RedisClient } from './redis/redis-executor.js';
export { isCluster } from './redis/options.js';
export { parseClusterSeeds, redactRedisUrl } from './redis/connection-config.js';
export type { ClusterSeed } from './redis/connection-config.js';
export { parseRedisInfo, infoNumber } from './redis/info.js';
export type { RedisInfo, KeyspaceInfo, CommandStatInfo } from './redis/info.js';
export {
  DEFAULT_METRIC_PREFIX,
  EXECUTOR_METRICS,
  METRIC_LABELS,
  OPERATION_STATUS,
} from './metric-names.js';
export type { ExecutorMetric } from './metric-names.js';
export type { NearCacheOptions } from './redis/near-cache.js';
export { createMemoryExecutor, MemoryExecutor } from './memory/memory-executor.js';
export type { MemoryExecutorOptions } from './memory/memory-executor.js';
export type { Clock } from './memory/keyspace.js';
export {
  NO_POD,
  OPERATIONS,
  ALL_OPERATIONS,
  WRITE_OPERATIONS,
  ZERO_EXECUTOR_STATS,
  isTunable,
} from './executor.js';
export type {
  StatefulExecutor,
  OperationName,
  ContractOperationName,
  TrySetResult,
  LinkWriteOptions,
  RemoveLinkOptions,
  RemoveLinkWithIdOptions,
  BackendKind,
  Topology,
  ScriptTransport,
  ExecutorDescription,
  ExecutorStats,
  HealthStatus,
  HealthCheckOptions,
  TunableExecutor,
} from './executor.js';
export {
  ErrorCodes,
  ErrorDescriptions,
  ERROR_BRAND,
  isStatefulRouteError,
  StatefulRouteError,
  ValidationError,
  ConnectionError,
  TimeoutError,
  AuthError,
  RedisReplyError,
  ScriptError,
  CorruptValueError,
  ExecutorClosedError,
  UnsupportedError,
  NoCapacityError,
  errorTypeOf,
} from './errors.js';
export type {
  AuthReply,
  CodeDescription,
  CodeDescriptions,
  ErrorCode,
  ErrorType,
  StatefulRouteErrorLike,
  ValidationRule,
} from './errors.js';
export { toExecutorError } from './redis/redis-errors.js';
export { CHANNELS, CONNECTION_STATES, OperationMessage } from './diagnostics.js';
export {
  ExecutorTelemetry,
  OperationRecord,
  BucketLayout,
  ERROR_TYPES,
  MAX_RECORDED_US,
  liveTelemetry,
  LIVE_TELEMETRY_KEY,
  operationIndex,
  bucketIndex,
  PlacementCounters,
  CLAIM_RELEASE_CAUSES,
  ALLOCATION_RESULTS,
} from './telemetry/telemetry.js';
export type {
  CacheHitSink,
  TelemetryNeeds,
  TelemetryAttachment,
  ClaimReleaseCause,
  AllocationResult,
} from './telemetry/telemetry.js';
export { HdrHistogram, HDR_MAX_VALUE } from './telemetry/hdr.js';
export type {
  ScriptLoadMessage,
  NoscriptMessage,
  ConnectionMessage,
  ConnectionState,
  ExecutorLifecycleMessage,
} from './diagnostics.js';
export {
  serviceStateKey,
  workloadKey,
  linkIndexKey,
  linkKey,
  namespaceKeyPattern,
  linkKeyPattern,
} from './keys.js';
export { checkNamespace, MAX_ID_BYTES, MAX_PERSIST_SECONDS } from './validation.js';
export { hasNamespaceMaintenance } from './namespace-keys.js';
export type { NamespaceKeysMaintenance } from './namespace-keys.js';
export { redisDeleteNamespaceKeys } from './redis/namespace-keys.js';
export { hasLinkScan, DEFAULT_LINK_SCAN_COUNT, MAX_LINK_SCAN_COUNT } from './link-scan.js';
export type {
  LinkScanMaintenance,
  LinkScanOptions,
  LinkScanPage,
  ScannedLink,
} from './link-scan.js';
export { redisScanLinks } from './redis/link-scan.js';
export { OPERATION_CHECKS } from './operation-checks.js';
export {
  PLACEMENT_OPERATIONS,
  PLACEMENT_STRATEGIES,
  PLACEMENT_CHECKS,
  MAX_PLACEMENT_INT,
  DEFAULT_PLACEMENT_BATCH,
  MAX_PLACEMENT_BATCH,
  PENDING_GRACE_MS,
  placementKeys,
  placementKeyPrefix,
} from './placement.js';
export type {
  PlacementOperationName,
  PlacementStrategy,
  PlacementOperations,
  RegisterPodOptions,
  AllocateOptions,
  Allocation,
  ReleaseResult,
  PodStatus,
  PodPlacement,
  Placement,
  PlacementBatchOptions,
  ReconcileOptions,
  SweepResult,
  ReconcileResult,
  PlacementKeys,
} from './placement.js';
