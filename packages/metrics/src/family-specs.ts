/**
 * The metric families `instrumentExecutor()` registers: for each executor metric its
 * Prometheus type and help text. The names come from executor-core's `EXECUTOR_METRICS`,
 * the one owner of the executor metrics' names, which the analyzer reads back.
 */
import { EXECUTOR_METRICS, type ExecutorMetric } from '@stateful-route/executor-core';
import type { FamilySpec, MetricType } from './metric-family.js';

/** Which family: a key of executor-core's `EXECUTOR_METRICS`. */
export type Kind = ExecutorMetric;

const NAMES: Readonly<Record<Kind, string>> = EXECUTOR_METRICS;

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
    help: 'Failed executor operations by error_type (validation, connection, timeout, script, cluster, other).',
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
