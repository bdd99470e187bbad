/**
 * The names and labels of the executor's Prometheus metrics (contract section 6 and
 * docs/metrics.md). `@stateful-route/metrics` writes them and the analyzer's
 * `fromExposition()` reads them back, without either depending on the other, and the
 * Grafana dashboard and alert rules in deploy/ query them: change a name here and
 * everywhere follows, or nothing does.
 */

/** The prefix of every executor metric name unless the caller chooses another. */
export const DEFAULT_METRIC_PREFIX = 'stateful_executor_';

/**
 * Each executor metric's name after the prefix
 * (`${DEFAULT_METRIC_PREFIX}${EXECUTOR_METRICS.operations}`).
 */
export const EXECUTOR_METRICS = Object.freeze({
  /** Counter of settled operations; labels `operation`, `status`. */
  operations: 'operations_total',
  /** Histogram of operation durations in seconds; label `operation`. */
  operationDuration: 'operation_duration_seconds',
  /** Counter of failed operations; labels `operation`, `error_type`. */
  errors: 'errors_total',
  /** Gauge of operations started and not settled; label `operation`. */
  operationsInFlight: 'operations_in_flight',
  /** Gauge of script and near-cache hit ratios; label `cache_type`. */
  cacheHitRatio: 'cache_hit_ratio',
  /** Counter of cache hits since the executor was created; label `cache_type`. */
  cacheHits: 'cache_hits_total',
  /** Counter of cache misses since the executor was created; label `cache_type`. */
  cacheMisses: 'cache_misses_total',
  /** Gauge of connections per state; label `status`. */
  connectionStatus: 'redis_connection_status',
  /** Counter of `SCRIPT LOAD`s. */
  scriptLoads: 'script_loads_total',
  /** Counter of NOSCRIPT replies answered by sending the script again. */
  noscriptReloads: 'noscript_reloads_total',
  /** Counter of reconnection attempts. */
  reconnects: 'redis_reconnects_total',
  /** Counter of Redis `INFO` reads at scrape time that failed or timed out. */
  redisInfoErrors: 'redis_info_errors_total',
  /** Gauge of `INFO` used_memory; label `node`. */
  redisUsedMemory: 'redis_used_memory_bytes',
  /** Gauge of `INFO` maxmemory; label `node`. */
  redisMaxmemory: 'redis_maxmemory_bytes',
  /** Gauge of `INFO` connected_clients; label `node`. */
  redisConnectedClients: 'redis_connected_clients',
  /** Gauge of `INFO` instantaneous_ops_per_sec; label `node`. */
  redisOpsPerSecond: 'redis_instantaneous_ops_per_second',
  /** Gauge of keys per database from `INFO keyspace`; labels `node`, `db`. */
  redisKeys: 'redis_keys',
} as const);

/** Which executor metric: a key of `EXECUTOR_METRICS`. */
export type ExecutorMetric = keyof typeof EXECUTOR_METRICS;

/** The label names of the executor metrics. */
export const METRIC_LABELS = Object.freeze({
  /** The executor's name, with `executorLabel: true`. */
  executor: 'executor',
  /** The contract name of the call (`getLinkedPod`). */
  operation: 'operation',
  /** `operations_total`: `OPERATION_STATUS`; `redis_connection_status`: a connection state. */
  status: 'status',
  /** `errors_total`: an `ErrorType` (`validation`, `connection`, ...). */
  errorType: 'error_type',
  /** `cache_hit_ratio`, `cache_hits_total`, `cache_misses_total`: `script` or `near`. */
  cacheType: 'cache_type',
  /** Redis figures: the node, `host:port`. */
  node: 'node',
  /** `redis_keys`: the database, `db0`. */
  db: 'db',
} as const);

/** The values of the `status` label of `operations_total`. */
export const OPERATION_STATUS = Object.freeze({ success: 'success', error: 'error' } as const);
