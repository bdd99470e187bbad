/**
 * The executor contract: the 14 operations of the Redis data model
 * (shared/spec/redis-data-model.md), the same on every backend, and placement
 * (docs/placement.md), which builds on them.
 */

import type { ConnectionState } from './diagnostics.js';
import {
  PLACEMENT_OPERATIONS,
  type PlacementOperationName,
  type PlacementOperations,
} from './placement.js';
import type { NearCacheOptions } from './redis/near-cache.js';
import type { ExecutorTelemetry } from './telemetry/telemetry.js';

/** `-1` means "no pod" in every result. Pod 0 is a real pod. */
export const NO_POD = -1;

/** The 14 operations of the contract, by their contract names. */
export const OPERATIONS = [
  'setServiceState',
  'getServiceState',
  'setWorkloadState',
  'getWorkloadState',
  'getWorkloadStateBatch',
  'setLinkedPod',
  'trySetLinkedPod',
  'setLinkedPodIfAbsent',
  'getLinkedPod',
  'getLinkedPodIfPersist',
  'batchGetLinkedPod',
  'removeLinkedPod',
  'removeLinkedPodWithId',
  'getLinkService',
] as const;

/** A contract operation's name. */
export type ContractOperationName = (typeof OPERATIONS)[number];

/**
 * Every operation the executor times and publishes: the contract's, then placement's. The
 * telemetry's records are indexed in this order.
 */
export const ALL_OPERATIONS = [...OPERATIONS, ...PLACEMENT_OPERATIONS] as const;

/** Any operation the executor times and publishes (contract or placement). */
export type OperationName = ContractOperationName | PlacementOperationName;

/** Operations that write (used for read/write ratios and out-of-memory handling). */
export const WRITE_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>([
  'registerPod',
  'drainPod',
  'undrainPod',
  'allocate',
  'release',
  'sweepDeadPods',
  'reconcilePlacement',
  'setServiceState',
  'setWorkloadState',
  'setLinkedPod',
  'trySetLinkedPod',
  'setLinkedPodIfAbsent',
  'removeLinkedPod',
  'removeLinkedPodWithId',
]);

/** The outcome of `trySetLinkedPod`. */
export interface TrySetResult {
  /** True when the uid is now linked to the requested pod. */
  linked: boolean;
  /** The pod the uid is linked to after the call (the refusing pod when not linked). */
  current: number;
  /** The pod replaced by this call, or -1 (also -1 when refused). */
  previous: number;
}

/**
 * The values of a link write (`setLinkedPod`, `trySetLinkedPod`, `setLinkedPodIfAbsent`).
 * Both are required; any other key is refused (`SR_VALIDATION`, rule `unknown-option`).
 */
export interface LinkWriteOptions {
  /** The pod to link to: a safe integer >= 0. */
  podId: number;
  /** -1 for a permanent link, else its lifetime in seconds (1..2^31-1). */
  persistSeconds: number;
}

/** The options of `removeLinkedPod`; any other key is refused (rule `unknown-option`). */
export interface RemoveLinkOptions {
  /** No effect (as in the Java contract); validated when given: an integer >= -1. */
  keepSeconds?: number | undefined;
}

/** The options of `removeLinkedPodWithId`; any other key is refused (rule `unknown-option`). */
export interface RemoveLinkWithIdOptions extends RemoveLinkOptions {
  /** Remove the link only when it holds exactly this pod. */
  podId: number;
}

/** Where the executor keeps its data. */
export type BackendKind = 'redis' | 'memory';
/** `standalone` and `cluster` for Redis, `embedded` for memory. */
export type Topology = 'standalone' | 'cluster' | 'embedded';
/** How link scripts reach Redis: by SHA (default) or as full text with EVAL every call. */
export type ScriptTransport = 'evalsha' | 'eval';

/** What an executor is and how it is configured (provenance for reports). */
export interface ExecutorDescription {
  name: string;
  backend: BackendKind;
  topology: Topology;
  scriptTransport: ScriptTransport | null;
  autoPipelining: boolean | null;
  connections: number;
  nearCache: { enabled: boolean; maxEntries: number } | null;
}

/** Cheap counters, read at any time (e.g. at scrape time). Monotonic since creation. */
export interface ExecutorStats {
  /** Script calls sent with EVALSHA that Redis ran from its cache. */
  scriptCallsBySha: number;
  /** Script calls sent as full text with EVAL (the EVAL transport, and NOSCRIPT reloads). */
  scriptCallsByText: number;
  /** NOSCRIPT replies answered by sending the script again. */
  noscriptReloads: number;
  /** SCRIPT LOAD commands completed (per node on a cluster). */
  scriptsLoaded: number;
  /** Near-cache hits, misses and invalidations (zero without a near cache). */
  nearCacheHits: number;
  nearCacheMisses: number;
  nearCacheInvalidations: number;
  /** Connection state changes seen since creation that were reconnect attempts. */
  reconnects: number;
}

/** Every counter of `ExecutorStats` at zero (an executor before its first call). */
export const ZERO_EXECUTOR_STATS: Readonly<ExecutorStats> = Object.freeze({
  scriptCallsBySha: 0,
  scriptCallsByText: 0,
  noscriptReloads: 0,
  scriptsLoaded: 0,
  nearCacheHits: 0,
  nearCacheMisses: 0,
  nearCacheInvalidations: 0,
  reconnects: 0,
});

/** The result of a readiness check. */
/** Options of `checkHealth()`. */
export interface HealthCheckOptions {
  /**
   * The check answers `ok: false` after this many ms at most. Default: the executor's command
   * timeout, else 1000.
   */
  timeoutMs?: number;
}

export interface HealthStatus {
  /** Whether the backend answered within the check's bound. */
  ok: boolean;
  backend: BackendKind;
  /** Round-trip time of the check in ms (0 for memory). */
  latencyMs: number;
  /**
   * Whether Redis holds every script in its script cache now (always true for memory). Not
   * part of `ok`: a call whose script is missing sends it again as text.
   */
  scriptsLoaded: boolean;
  /** Why not ok. */
  reason?: string;
}

/**
 * Sticky-routing state: per-pod states, per-service workload states and uid -> pod links,
 * and placement on top of them (`PlacementOperations`). Every method validates its arguments
 * before any I/O and rejects with a `StatefulRouteError` (`SR_VALIDATION` for bad input).
 */
export interface StatefulExecutor extends PlacementOperations {
  /** The name used in diagnostics and metric labels. */
  readonly name: string;
  readonly backend: BackendKind;
  /**
   * What the executor records of its calls while a consumer is attached: counts, errors,
   * latencies, per operation. Metrics and the analyzer read it; see `ExecutorTelemetry`.
   */
  readonly telemetry: ExecutorTelemetry;

  /** `HSET sf:{ns:state:svc} <podId> <state>`. @throws SR_VALIDATION */
  setServiceState(namespace: string, service: string, podId: number, state: string): Promise<void>;
  /** Pod id -> state; non-integer fields are skipped; a missing key is `{}`. */
  getServiceState(namespace: string, service: string): Promise<Record<number, string>>;
  /** `SET sf:{ns:workload:svc} <state>` without expiry. */
  setWorkloadState(namespace: string, service: string, state: string): Promise<void>;
  /** The workload state, or null when missing, `""`, `"null"` or `"nil"`. */
  getWorkloadState(namespace: string, service: string): Promise<string | null>;
  /** Service -> state for the services that have one. `[]` makes no round trip. */
  getWorkloadStateBatch(
    namespace: string,
    services: readonly string[],
  ): Promise<Record<string, string>>;

  /**
   * Links the uid to `podId` unconditionally; returns the previous pod or -1.
   * @example
   * await executor.setLinkedPod('default', 'user123', 'room', { podId: 3, persistSeconds: 300 });
   * @throws SR_VALIDATION (a missing or unknown option included)
   */
  setLinkedPod(
    namespace: string,
    uid: string,
    service: string,
    options: LinkWriteOptions,
  ): Promise<number>;
  /**
   * Links unless refused by a permanent link to another pod.
   * @example
   * const { linked, current } = await executor.trySetLinkedPod('default', 'user123', 'room', {
   *   podId: 3,
   *   persistSeconds: -1,
   * });
   * @throws SR_VALIDATION
   */
  trySetLinkedPod(
    namespace: string,
    uid: string,
    service: string,
    options: LinkWriteOptions,
  ): Promise<TrySetResult>;
  /**
   * Links only when no link exists; returns the pod actually linked.
   * @example
   * const pod = await executor.setLinkedPodIfAbsent('default', 'user123', 'room', {
   *   podId: 3,
   *   persistSeconds: 300,
   * });
   * @throws SR_VALIDATION
   */
  setLinkedPodIfAbsent(
    namespace: string,
    uid: string,
    service: string,
    options: LinkWriteOptions,
  ): Promise<number>;
  /** The linked pod (temporary or permanent) or -1. @throws SR_CORRUPT_VALUE on a non-integer value */
  getLinkedPod(namespace: string, uid: string, service: string): Promise<number>;
  /** The linked pod when the link is permanent, else -1. */
  getLinkedPodIfPersist(namespace: string, uid: string, service: string): Promise<number>;
  /** Pod -> uids (input order) for the uids that have a readable link. `[]` makes no round trip. */
  batchGetLinkedPod(
    namespace: string,
    uids: readonly string[],
    service: string,
  ): Promise<Record<number, string[]>>;
  /**
   * Deletes the link; true if it existed. The options are optional: `keepSeconds` has no
   * effect (as in the Java contract) and is only validated when given.
   * @example
   * await executor.removeLinkedPod('default', 'user123', 'room');
   * @throws SR_VALIDATION
   */
  removeLinkedPod(
    namespace: string,
    uid: string,
    service: string,
    options?: RemoveLinkOptions,
  ): Promise<boolean>;
  /**
   * Deletes the link only when it holds exactly `podId`; true if removed.
   * @example
   * await executor.removeLinkedPodWithId('default', 'user123', 'room', { podId: 3 });
   * @throws SR_VALIDATION
   */
  removeLinkedPodWithId(
    namespace: string,
    uid: string,
    service: string,
    options: RemoveLinkWithIdOptions,
  ): Promise<boolean>;
  /** Service -> pod of the uid's permanent links. */
  getLinkService(namespace: string, uid: string): Promise<Record<string, number>>;

  /** Configuration, for reports and provenance. */
  describe(): ExecutorDescription;
  /** Monotonic counters; cheap. */
  stats(): ExecutorStats;
  /** Backend reachable and scripts loaded. Never throws. */
  checkHealth(options?: HealthCheckOptions): Promise<HealthStatus>;
  /** Releases what the executor owns (listeners, timers, connections it created). Idempotent. */
  close(): Promise<void>;
}

/**
 * The run-time switches of an executor that has them (the Redis backend): what the optimizer
 * tunes, the server applies and the metrics read. Depend on this, not on a concrete class.
 * The switches that wait run one after the other in call order.
 */
export interface TunableExecutor extends StatefulExecutor {
  /** `evalsha` (by SHA, re-sent on NOSCRIPT) or `eval` (full text every call). */
  readonly scriptTransport: ScriptTransport;
  /** @throws SR_VALIDATION for another value */
  setScriptTransport(transport: ScriptTransport): void;
  /** Whether ioredis auto-pipelining is on. */
  readonly autoPipelining: boolean;
  setAutoPipelining(enabled: boolean): void;
  /** How many connections calls are spread over. */
  readonly connectionCount: number;
  /** Whether `setConnectionCount()` can add connections (it was given a factory). */
  readonly canAddConnections: boolean;
  /** @throws SR_VALIDATION outside 1..64, or more connections without a factory */
  setConnectionCount(count: number): Promise<void>;
  /** Whether a near cache is configured. */
  readonly nearCacheEnabled: boolean;
  /** @throws SR_UNSUPPORTED where it cannot work (a Cluster, Redis < 6) */
  enableNearCache(options?: NearCacheOptions & { timeoutMs?: number }): Promise<void>;
  disableNearCache(): Promise<void>;
  /** Loads the scripts into Redis' script cache. */
  loadScripts(): Promise<void>;
  /** Whether every connection is ready. */
  readonly connected: boolean;
  /** Each connection (`main`, `pool-1`, ...) and its last state, as the connection channel reports it. */
  readonly connectionStates: readonly { connection: string; state: ConnectionState }[];
}

/** Whether `executor` has the run-time switches (`TunableExecutor`). */
export function isTunable(executor: StatefulExecutor): executor is TunableExecutor {
  const candidate = executor as Partial<TunableExecutor>;
  return (
    typeof candidate.setScriptTransport === 'function' &&
    typeof candidate.setAutoPipelining === 'function' &&
    typeof candidate.setConnectionCount === 'function' &&
    typeof candidate.enableNearCache === 'function' &&
    typeof candidate.disableNearCache === 'function' &&
    typeof candidate.loadScripts === 'function'
  );
}
