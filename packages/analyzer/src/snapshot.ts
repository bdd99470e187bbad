/**
 * The analysis snapshot: a plain, versioned, JSON-serialisable model of how an executor
 * performed over a span of time. Both the live analyzer (`createAnalyzer().snapshot()`) and
 * the Prometheus reader (`fromExposition()`) produce it; `compare()`, the optimizer and the
 * reporter consume it. Only plain data: numbers, strings, booleans, arrays and records, so
 * `JSON.parse(JSON.stringify(s))` gives back an equal snapshot.
 */
import {
  ERROR_TYPES,
  type BackendKind,
  type ErrorType,
  type ExecutorStats,
  type ScriptTransport,
  type Topology,
} from '@stateful-route/executor-core';

/** The schema version of `AnalysisSnapshot`. Bumped on any incompatible change. */
export const SNAPSHOT_SCHEMA_VERSION = 1;

/** Every error type, in a stable order (the keys of `errorsByType`): executor-core's. */
export { ERROR_TYPES };

/** Where the figures came from. */
export type SnapshotSource = 'live' | 'exposition';

/** What was measured and how it was configured. Unknown fields are `null`. */
export interface SnapshotProvenance {
  /** Package name -> version of the stateful-route packages involved. */
  packages: Record<string, string>;
  /** `process.version` of the measuring process (`null` from an exposition). */
  node: string | null;
  backend: BackendKind | null;
  topology: Topology | null;
  scriptTransport: ScriptTransport | null;
  autoPipelining: boolean | null;
  connections: number | null;
  nearCache: { enabled: boolean; maxEntries: number } | null;
  /** The executor name the analyzer listened to (`null`: every executor). */
  executor: string | null;
  /** ISO 8601 start and end of the measured span. */
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
}

/** Latency summary of one operation, in milliseconds. */
export interface LatencySummary {
  unit: 'ms';
  /**
   * True when the figures are estimates (from Prometheus histogram buckets) rather than
   * measured with microsecond resolution.
   */
  estimated: boolean;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * A compact latency histogram: `counts[i]` samples fell in `(lower, bounds[i]]`. Bounds are
 * in microseconds, ascending. With `scheme: 'log'` (live snapshots) the bounds lie on a
 * fixed logarithmic scale of 50 buckets per decade, so `lower = bounds[i] / 10^(1/50)`
 * (about 4.7% below), empty buckets are left out, and two live snapshots share their
 * bounds. With `scheme: 'buckets'` (exposition snapshots) the bounds are the Prometheus
 * bucket bounds, every finite bucket is listed (empty ones too), `lower` is the previous
 * bound (0 for the first), and samples in the `+Inf` bucket are counted in `overflow`.
 */
export interface CompactHistogram {
  unit: 'us';
  /** How to read the bounds; absent means `log` (hand-made snapshots may leave it out). */
  scheme?: 'log' | 'buckets';
  bounds: number[];
  counts: number[];
  /** Samples above the last finite bound (the Prometheus `+Inf` bucket); 0 for live data. */
  overflow: number;
}

/** One time slice of an operation's timeline. */
export interface TimelineSlice {
  /** Start of the slice, in seconds since the start of the snapshot. */
  t: number;
  /** Operations that completed in the slice (successes and errors). */
  count: number;
  errors: number;
  /** p99 latency of the slice in ms (0 when the slice is empty). */
  p99: number;
}

/** Everything measured about one operation. */
export interface OperationSnapshot {
  /** Completed calls, successes and errors. */
  count: number;
  errors: number;
  errorsByType: Record<ErrorType, number>;
  /** Calls per second over the snapshot's span. */
  throughput: number;
  /** Calls answered from the near cache (live snapshots only; 0 otherwise). */
  cached: number;
  latency: LatencySummary;
  histogram: CompactHistogram;
  /** Per-slice figures (live: the last `windowSeconds`; exposition: one slice). */
  timeline: TimelineSlice[];
  /**
   * Heap allocation per call, measured by `analyzeOperation` as a signed heapUsed delta
   * (negative when a GC ran during the call). Absent for executor operations.
   */
  allocation?: { meanBytes: number; totalBytes: number };
}

/** All operations together. */
export interface TotalsSnapshot {
  count: number;
  errors: number;
  /** errors / count (0 when count is 0). */
  errorRate: number;
  throughput: number;
}

/** Figures of the measuring process over the snapshot's span. */
export interface ProcessSnapshot {
  /** Event-loop delay in ms (perf_hooks.monitorEventLoopDelay). */
  eventLoopDelay: { p50: number; p99: number; max: number; mean: number };
  /** Bytes, at the time of the snapshot. */
  heapUsed: number;
  rss: number;
  /** Garbage collections during the span. */
  gc: { count: number; totalMs: number; maxMs: number };
}

/** One Redis command's `INFO commandstats` delta. */
export interface CommandStatsDelta {
  calls: number;
  /** Microseconds spent inside Redis. */
  usec: number;
  usecPerCall: number;
}

/** Redis server figures over the snapshot's span (summed over masters on a cluster). */
export interface RedisSnapshot {
  /** Nodes the figures were read from. */
  nodes: number;
  /** Lower-cased command name -> delta (e.g. `evalsha`, `hgetall`). */
  commandstats: Record<string, CommandStatsDelta>;
  stats: {
    totalCommandsProcessed: number;
    /** At the end of the span (a gauge, summed over nodes). */
    instantaneousOpsPerSec: number;
    keyspaceHits: number;
    keyspaceMisses: number;
    expiredKeys: number;
    evictedKeys: number;
    rejectedConnections: number;
    totalNetInputBytes: number;
    totalNetOutputBytes: number;
  };
  /** Bytes at the end of the span; `max` is 0 when `maxmemory` is not set. */
  memory: { used: number; max: number };
  /** Connected clients at the end of the span. */
  clients: number;
}

/** How many calls were in flight at once. */
export interface ConcurrencySnapshot {
  maxInFlight: number;
  /** Time-weighted mean (Little's law: total busy time / span). */
  meanInFlight: number;
}

/** A versioned, plain-data model of one measured span. */
export interface AnalysisSnapshot {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  source: SnapshotSource;
  provenance: SnapshotProvenance;
  /** Operation name -> figures; only operations with at least one call. */
  operations: Record<string, OperationSnapshot>;
  totals: TotalsSnapshot;
  /** Absent when the source did not expose process figures. */
  process?: ProcessSnapshot;
  /** Present when the analyzer was given a Redis client. */
  redis?: RedisSnapshot;
  /** Deltas of the executor's counters over the span (when the executor was known). */
  executorStats?: ExecutorStats;
  /** Present for live snapshots. */
  concurrency?: ConcurrencySnapshot;
}

/** A zero-filled `errorsByType`, its keys in the order of `ERROR_TYPES`. */
export function emptyErrorsByType(): Record<ErrorType, number> {
  return Object.fromEntries(ERROR_TYPES.map((type) => [type, 0])) as Record<ErrorType, number>;
}
