/**
 * The metric families `instrumentExecutor()` registers: for each executor metric its
 * Prometheus type and help text. The names come from executor-core's `EXECUTOR_METRICS`,
 * the one owner of the executor metrics' names, which the analyzer reads back; placement's
 * (which nothing reads back) are named here, `PLACEMENT_METRICS`.
 */
import {
  ALLOCATION_RESULTS,
  CLAIM_RELEASE_CAUSES,
  ERROR_TYPES,
  EXECUTOR_METRICS,
  type ExecutorMetric,
} from '@stateful-route/executor-core';
import type { FamilySpec, MetricType } from './metric-family.js';

/**
 * Each placement metric's name after the prefix. Their only labels are `executor` (with
 * `executorLabel: true`) and the fixed `result` or `cause`: nothing per pod, uid or service.
 */
export const PLACEMENT_METRICS = Object.freeze({
  /** Counter of `allocate` calls by how they ended; label `result`. */
  allocations: 'allocations_total',
  /** Counter of placement claims released; label `cause`. */
  claimsReleased: 'claims_released_total',
  /** Counter of `sweepDeadPods` runs completed. */
  placementSweeps: 'placement_sweeps_total',
  /** Counter of dead pods' links deleted by sweeps. */
  linksSwept: 'links_swept_total',
} as const);

/** Which placement metric: a key of `PLACEMENT_METRICS`. */
export type PlacementMetric = keyof typeof PLACEMENT_METRICS;

/** The label names of the placement metrics (beside `executor`). */
export const PLACEMENT_LABELS = Object.freeze({
  /** `allocations_total`: executor-core's `ALLOCATION_RESULTS`. */
  result: 'result',
  /** `claims_released_total`: executor-core's `CLAIM_RELEASE_CAUSES`. */
  cause: 'cause',
} as const);

/** Which family: a key of executor-core's `EXECUTOR_METRICS` or of `PLACEMENT_METRICS`. */
export type Kind = ExecutorMetric | PlacementMetric;

const NAMES: Readonly<Record<Kind, string>> = { ...EXECUTOR_METRICS, ...PLACEMENT_METRICS };

interface KindSpec {
  kind: Kind;
  type: MetricType;
  help: string;
}

const SPECS: readonly KindSpec[] = [
  {
    kind: 'operations',
    type: 'counter',
    help: 'Executor operations completed, by operation and status (success or error).',
  },
  {
    kind: 'operationDuration',
    type: 'histogram',
    help: 'Duration of executor operations in seconds, validation and Redis round trips included.',
  },
  {
    kind: 'errors',
    type: 'counter',
    help: `Failed executor operations by error_type (${ERROR_TYPES.join(', ')}).`,
  },
  {
    kind: 'operationsInFlight',
    type: 'gauge',
    help: 'Executor operations started and not yet settled.',
  },
  {
    kind: 'cacheHitRatio',
    type: 'gauge',
    help: 'Hit ratio since creation: script = script calls served by SHA over all script calls; near = near-cache hits over lookups.',
  },
  {
    kind: 'cacheHits',
    type: 'counter',
    help: 'Cache hits since creation: script = script calls served by SHA (EVALSHA); near = reads answered by the near cache.',
  },
  {
    kind: 'cacheMisses',
    type: 'counter',
    help: 'Cache misses since creation: script = script calls sent as text (EVAL, NOSCRIPT reloads); near = near-cache lookups that went to Redis.',
  },
  {
    kind: 'connectionStatus',
    type: 'gauge',
    help: 'Redis connections of the executor in each state (1 for the current state of a single connection, 0 for the others).',
  },
  {
    kind: 'scriptLoads',
    type: 'counter',
    help: 'Lua scripts loaded with SCRIPT LOAD (per node on a Cluster).',
  },
  {
    kind: 'noscriptReloads',
    type: 'counter',
    help: 'NOSCRIPT replies answered by sending the script again.',
  },
  {
    kind: 'reconnects',
    type: 'counter',
    help: 'Reconnection attempts of the executor Redis connections.',
  },
  {
    kind: 'allocations',
    type: 'counter',
    help: `Placement allocate calls by result (${ALLOCATION_RESULTS.join(', ')}).`,
  },
  {
    kind: 'claimsReleased',
    type: 'counter',
    help: `Placement claims released, by cause (${CLAIM_RELEASE_CAUSES.join(', ')}).`,
  },
  {
    kind: 'placementSweeps',
    type: 'counter',
    help: 'Placement sweeps of dead pods completed (sweepDeadPods runs).',
  },
  {
    kind: 'linksSwept',
    type: 'counter',
    help: 'Links of dead pods deleted by placement sweeps.',
  },
];

const INFO_SPECS: readonly KindSpec[] = [
  {
    kind: 'redisInfoErrors',
    type: 'counter',
    help: 'Redis INFO reads at scrape time that failed or timed out (cached figures were served).',
  },
  {
    kind: 'redisUsedMemory',
    type: 'gauge',
    help: 'Redis INFO used_memory, per node.',
  },
  {
    kind: 'redisMaxmemory',
    type: 'gauge',
    help: 'Redis INFO maxmemory (0 = no limit), per node.',
  },
  {
    kind: 'redisConnectedClients',
    type: 'gauge',
    help: 'Redis INFO connected_clients, per node.',
  },
  {
    kind: 'redisOpsPerSecond',
    type: 'gauge',
    help: 'Redis INFO instantaneous_ops_per_sec, per node.',
  },
  {
    kind: 'redisKeys',
    type: 'gauge',
    help: 'Keys per database from Redis INFO keyspace, per node.',
  },
];

/**
 * The families to register under `prefix`: the executor's, and the Redis INFO ones when
 * `withInfo`.
 */
export function familySpecs(prefix: string, withInfo: boolean): (FamilySpec & { kind: Kind })[] {
  const specs = withInfo ? [...SPECS, ...INFO_SPECS] : SPECS;
  return specs.map((spec) => ({ ...spec, name: `${prefix}${NAMES[spec.kind]}` }));
}
