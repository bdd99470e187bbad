/**
 * `instrumentExecutor()`: exposes what the executors record of their calls (executor-core's
 * `ExecutorTelemetry`), and what their diagnostics channels report of connections and
 * scripts, as Prometheus metrics on the registry it is given.
 *
 * Nothing runs per call here: the executor records each call once, into preallocated state
 * every consumer shares, and custom metric objects (metric-family.ts) read that state at
 * scrape time (operation-stats.ts). The channels carry only rare events (connections,
 * script loads, executors created and closed).
 */
import diagnostics from 'node:diagnostics_channel';
import type {
  ConnectionMessage,
  ConnectionState,
  ExecutorLifecycleMessage,
  ExecutorStats,
  ExecutorTelemetry,
  NoscriptMessage,
  ScriptLoadMessage,
  StatefulExecutor,
  TunableExecutor,
} from '@stateful-route/executor-core';
import type { Cluster, Redis } from 'ioredis';
import type { Registry, RegistryContentType } from 'prom-client';
import { EXECUTOR_CHANNELS } from './channels.js';
import { MetricsOptionsError } from './errors.js';
import {
  registerFamilies,
  unregisterFamilies,
  type FamilyMember,
  type FamilySpec,
  type MetricFamily,
  type Sample,
} from './metric-family.js';
import {
  ERROR_TYPES,
  liveTelemetry,
  OperationFigures,
  type OperationTotals,
} from './operation-stats.js';
import { RedisInfoReader, type NodeInfo } from './redis-info.js';

/** The metric name prefix used when none is given. */
export const DEFAULT_PREFIX = 'stateful_executor_';

/**
 * Default buckets of the duration histogram, in seconds: 50 µs to 10 s, so that Redis round
 * trips (usually 0.1 to 1 ms) spread over several buckets instead of all landing in the first.
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
]);

/** Options of `instrumentExecutor()`. */
export interface InstrumentOptions {
  /** The prom-client registry to register on. Required: the global one is never assumed. */
  registry: Registry<RegistryContentType>;
  /** Count only the events of the executor with this name. Default: every executor. */
  executor?: string;
  /**
   * Add an `executor` label (the executor's name) to every metric, so that several executors,
   * or several instrumentations each with its own `executor`, can share a registry.
   * Default false.
   */
  executorLabel?: boolean;
  /** Metric name prefix. Default `stateful_executor_`. */
  prefix?: string;
  /** Upper bounds of the duration histogram, in seconds, increasing. Default `DEFAULT_BUCKETS`. */
  buckets?: readonly number[];
  /**
   * An executor created before this call: its `create` event was missed, so its script-cache
   * counters and connection state are read from the instance instead.
   */
  executorInstance?: StatefulExecutor;
  /** When given, a few Redis `INFO` figures are read at scrape time (per master on a Cluster). */
  redis?: Redis | Cluster;
  /** How long `INFO` figures are reused before Redis is asked again, ms. Default 5000. */
  infoCacheMs?: number;
  /**
   * The longest a scrape waits for `INFO`, ms; past it the cached figures are served and
   * `redis_info_errors_total` counts the miss. Default 250.
   */
  infoTimeoutMs?: number;
}

const CONNECTION_STATES: readonly ConnectionState[] = [
  'connect',
  'ready',
  'error',
  'close',
  'reconnecting',
  'end',
];

/** The numbers of one `executor` label value (or of every executor when not labelled). */
interface Group {
  /** The `executor` label value; undefined when not labelled. */
  readonly label: string | undefined;
  readonly figures: OperationFigures;
  scriptLoads: number;
  noscriptReloads: number;
  reconnects: number;
  /** Executor name -> its stats reader (from the create event or `executorInstance`). */
  readonly stats: Map<string, () => ExecutorStats>;
  /** `executor \0 connection` -> last state. */
  readonly connections: Map<string, ConnectionState>;
}

type Kind =
  | 'operations'
  | 'duration'
  | 'errors'
  | 'inFlight'
  | 'cacheRatio'
  | 'connection'
  | 'scriptLoads'
  | 'noscript'
  | 'reconnects'
  | 'infoErrors'
  | 'usedMemory'
  | 'maxmemory'
  | 'clients'
  | 'opsPerSec'
  | 'keys';

const SPECS: readonly (Omit<FamilySpec, 'name'> & { suffix: string; kind: Kind })[] = [
  {
    kind: 'operations',
    suffix: 'operations_total',
    type: 'counter',
    help: 'Executor operations completed, by operation and status (success or error).',
  },
  {
    kind: 'duration',
    suffix: 'operation_duration_seconds',
    type: 'histogram',
    help: 'Duration of executor operations in seconds, validation and Redis round trips included.',
  },
  {
    kind: 'errors',
    suffix: 'errors_total',
    type: 'counter',
    help: 'Failed executor operations by error_type (validation, connection, timeout, script, cluster, other).',
  },
  {
    kind: 'inFlight',
    suffix: 'operations_in_flight',
    type: 'gauge',
    help: 'Executor operations started and not yet settled.',
  },
  {
    kind: 'cacheRatio',
    suffix: 'cache_hit_ratio',
    type: 'gauge',
    help: 'Hit ratio since creation: script = script calls served by SHA over all script calls; near = near-cache hits over lookups.',
  },
  {
    kind: 'connection',
    suffix: 'redis_connection_status',
    type: 'gauge',
    help: 'Redis connections of the executor in each state (1 for the current state of a single connection, 0 for the others).',
  },
  {
    kind: 'scriptLoads',
    suffix: 'script_loads_total',
    type: 'counter',
    help: 'Lua scripts loaded with SCRIPT LOAD (per node on a Cluster).',
  },
  {
    kind: 'noscript',
    suffix: 'noscript_reloads_total',
    type: 'counter',
    help: 'NOSCRIPT replies answered by sending the script again.',
  },
  {
    kind: 'reconnects',
    suffix: 'redis_reconnects_total',
    type: 'counter',
    help: 'Reconnection attempts of the executor Redis connections.',
  },
];

const INFO_SPECS: readonly (Omit<FamilySpec, 'name'> & { suffix: string; kind: Kind })[] = [
  {
    kind: 'infoErrors',
    suffix: 'redis_info_errors_total',
    type: 'counter',
    help: 'Redis INFO reads at scrape time that failed or timed out (cached figures were served).',
  },
  {
    kind: 'usedMemory',
    suffix: 'redis_used_memory_bytes',
    type: 'gauge',
    help: 'Redis INFO used_memory, per node.',
  },
  {
    kind: 'maxmemory',
    suffix: 'redis_maxmemory_bytes',
    type: 'gauge',
    help: 'Redis INFO maxmemory (0 = no limit), per node.',
  },
  {
    kind: 'clients',
    suffix: 'redis_connected_clients',
    type: 'gauge',
    help: 'Redis INFO connected_clients, per node.',
  },
  {
    kind: 'opsPerSec',
    suffix: 'redis_instantaneous_ops_per_second',
    type: 'gauge',
    help: 'Redis INFO instantaneous_ops_per_sec, per node.',
  },
  {
    kind: 'keys',
    suffix: 'redis_keys',
    type: 'gauge',
    help: 'Keys per database from Redis INFO keyspace, per node.',
  },
];

const PREFIX_PATTERN = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function checkOptions(options: InstrumentOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new MetricsOptionsError('options', 'must be an object');
  }
  const registry = options.registry as unknown as Record<string, unknown> | undefined;
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function'
  ) {
    throw new MetricsOptionsError('registry', 'must be a prom-client Registry');
  }
  if (
    options.executor !== undefined &&
    (typeof options.executor !== 'string' || !options.executor)
  ) {
    throw new MetricsOptionsError('executor', 'must be a non-empty string');
  }
  if (options.executorLabel !== undefined && typeof options.executorLabel !== 'boolean') {
    throw new MetricsOptionsError('executorLabel', 'must be a boolean');
  }
  if (
    options.prefix !== undefined &&
    (typeof options.prefix !== 'string' || !PREFIX_PATTERN.test(options.prefix))
  ) {
    throw new MetricsOptionsError('prefix', 'must match [a-zA-Z_:][a-zA-Z0-9_:]*');
  }
  const buckets = options.buckets;
  if (buckets !== undefined) {
    if (!Array.isArray(buckets) || buckets.length === 0) {
      throw new MetricsOptionsError('buckets', 'must be a non-empty array of seconds');
    }
    buckets.forEach((bound: unknown, i) => {
      if (!isFiniteNumber(bound)) {
        throw new MetricsOptionsError('buckets', 'must hold finite numbers (+Inf is implied)');
      }
      if (i > 0 && bound <= buckets[i - 1]!) {
        throw new MetricsOptionsError('buckets', 'must be strictly increasing');
      }
    });
  }
  const instance = options.executorInstance as unknown as Record<string, unknown> | undefined;
  if (instance !== undefined) {
    if (
      typeof instance !== 'object' ||
      instance === null ||
      typeof instance.name !== 'string' ||
      typeof instance.stats !== 'function'
    ) {
      throw new MetricsOptionsError('executorInstance', 'must be a StatefulExecutor');
    }
    if (options.executor !== undefined && instance.name !== options.executor) {
      throw new MetricsOptionsError(
        'executorInstance',
        `is named "${instance.name}" but executor is "${options.executor}"`,
      );
    }
  }
  const redis = options.redis as unknown as Record<string, unknown> | undefined;
  if (
    redis !== undefined &&
    (typeof redis !== 'object' || redis === null || typeof redis.info !== 'function')
  ) {
    throw new MetricsOptionsError('redis', 'must be an ioredis Redis or Cluster client');
  }
  if (
    options.infoCacheMs !== undefined &&
    !(isFiniteNumber(options.infoCacheMs) && options.infoCacheMs >= 0)
  ) {
    throw new MetricsOptionsError('infoCacheMs', 'must be a finite number >= 0');
  }
  if (
    options.infoTimeoutMs !== undefined &&
    !(isFiniteNumber(options.infoTimeoutMs) && options.infoTimeoutMs > 0)
  ) {
    throw new MetricsOptionsError('infoTimeoutMs', 'must be a finite number > 0');
  }
}

/** Formats a bucket bound for the `le` label the way Prometheus' Go client does. */
function formatBound(bound: number): string {
  return String(bound);
}

/** One `instrumentExecutor()` call: the numbers, the subscribers and the collectors. */
class Instrumentation implements FamilyMember {
  readonly shareKey: string;
  readonly shareExecutor: string | undefined;
  readonly #filter: string | undefined;
  readonly #labelled: boolean;
  readonly #bounds: Float64Array;
  readonly #le: string[];
  readonly #groups = new Map<string, Group>();
  readonly #closed = new Set<string>();
  readonly #reader: RedisInfoReader | undefined;
  #lastName: string | undefined = undefined;
  #lastGroup: Group | undefined = undefined;

  constructor(options: InstrumentOptions) {
    this.#filter = options.executor;
    this.#labelled = options.executorLabel ?? false;
    const buckets = options.buckets ?? DEFAULT_BUCKETS;
    this.#bounds = Float64Array.from(buckets);
    this.#le = buckets.map(formatBound);
    this.shareKey = JSON.stringify({ labelled: this.#labelled, buckets });
    this.shareExecutor = this.#labelled ? this.#filter : undefined;
    if (!this.#labelled) this.#groups.set('', this.#newGroup(undefined));
    else if (this.#filter !== undefined) this.group(this.#filter);
    if (options.redis) {
      this.#reader = new RedisInfoReader(
        options.redis,
        options.infoCacheMs ?? 5000,
        options.infoTimeoutMs ?? 250,
      );
    }
  }

  get bounds(): Float64Array {
    return this.#bounds;
  }

  /** Whether events of this executor are counted. */
  accepts(executor: string): boolean {
    return this.#filter === undefined || executor === this.#filter;
  }

  #newGroup(label: string | undefined): Group {
    return {
      label,
      figures: new OperationFigures([...this.#bounds]),
      scriptLoads: 0,
      noscriptReloads: 0,
      reconnects: 0,
      stats: new Map(),
      connections: new Map(),
    };
  }

  /** The group an executor's events go to. Cheap when called again with the same name. */
  group(executor: string): Group {
    if (executor === this.#lastName) return this.#lastGroup!;
    const key = this.#labelled ? executor : '';
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = this.#newGroup(executor);
      this.#groups.set(key, group);
    }
    this.#lastName = executor;
    this.#lastGroup = group;
    return group;
  }

  /** Reads what an accepted executor records, from now on. */
  watch(telemetry: ExecutorTelemetry): void {
    if (!this.accepts(telemetry.executor)) return;
    this.group(telemetry.executor).figures.watch(telemetry);
  }

  /** The executor closed: its figures so far stay in the metrics. */
  retire(telemetry: ExecutorTelemetry): void {
    if (!this.accepts(telemetry.executor)) return;
    this.group(telemetry.executor).figures.retire(telemetry);
  }

  /** Stops every recording this instrumentation asked for. */
  releaseTelemetry(): void {
    for (const group of this.#groups.values()) group.figures.release();
  }

  // ---- point channels -----------------------------------------------------------------

  trackExecutor(name: string, stats: () => ExecutorStats): void {
    this.#closed.delete(name);
    this.group(name).stats.set(name, stats);
  }

  forgetExecutor(name: string): void {
    this.#closed.add(name);
    const group = this.group(name);
    group.stats.delete(name);
    const prefix = `${name}\0`;
    for (const key of group.connections.keys()) {
      if (key.startsWith(prefix)) group.connections.delete(key);
    }
  }

  connectionState(executor: string, connection: string, state: ConnectionState): void {
    const group = this.group(executor);
    if (state === 'reconnecting') group.reconnects++;
    // Events of a closed executor (its clients ending after close) would bring it back.
    if (!this.#closed.has(executor)) group.connections.set(`${executor}\0${connection}`, state);
  }

  // ---- scrape -------------------------------------------------------------------------

  #labels(group: Group, extra: Record<string, string>): Record<string, string> {
    return group.label === undefined ? extra : { executor: group.label, ...extra };
  }

  #infoLabels(extra: Record<string, string>): Record<string, string> {
    // INFO figures belong to the Redis client, not to an executor: labelled only when this
    // instrumentation is restricted to one executor, which keeps shared families apart.
    return this.#labelled && this.#filter !== undefined
      ? { executor: this.#filter, ...extra }
      : extra;
  }

  collect(kind: string, name: string, out: Sample[]): void | Promise<void> {
    switch (kind as Kind) {
      case 'operations':
        for (const group of this.#groups.values()) {
          for (const { operation, totals } of group.figures.collect()) {
            out.push({
              labels: this.#labels(group, { operation, status: 'success' }),
              value: totals.calls - totals.failures,
            });
            out.push({
              labels: this.#labels(group, { operation, status: 'error' }),
              value: totals.failures,
            });
          }
        }
        return;
      case 'duration':
        for (const group of this.#groups.values()) {
          for (const { operation, totals } of group.figures.collect()) {
            this.#histogram(group, operation, totals, name, out);
          }
        }
        return;
      case 'errors':
        for (const group of this.#groups.values()) {
          for (const { operation, totals } of group.figures.collect()) {
            totals.errors.forEach((count, i) => {
              if (count > 0) {
                out.push({
                  labels: this.#labels(group, { operation, error_type: ERROR_TYPES[i]! }),
                  value: count,
                });
              }
            });
          }
        }
        return;
      case 'inFlight':
        for (const group of this.#groups.values()) {
          for (const { operation, inFlight } of group.figures.collect()) {
            out.push({ labels: this.#labels(group, { operation }), value: inFlight });
          }
        }
        return;
      case 'cacheRatio':
        for (const group of this.#groups.values()) this.#ratios(group, out);
        return;
      case 'connection':
        for (const group of this.#groups.values()) {
          if (group.connections.size === 0) continue;
          for (const status of CONNECTION_STATES) {
            let count = 0;
            for (const state of group.connections.values()) if (state === status) count++;
            out.push({ labels: this.#labels(group, { status }), value: count });
          }
        }
        return;
      case 'scriptLoads':
        for (const group of this.#groups.values()) {
          out.push({ labels: this.#labels(group, {}), value: group.scriptLoads });
        }
        return;
      case 'noscript':
        for (const group of this.#groups.values()) {
          out.push({ labels: this.#labels(group, {}), value: group.noscriptReloads });
        }
        return;
      case 'reconnects':
        for (const group of this.#groups.values()) {
          out.push({ labels: this.#labels(group, {}), value: group.reconnects });
        }
        return;
      case 'infoErrors':
        return this.#infoErrors(out);
      default:
        return this.#info(kind as Kind, out);
    }
  }

  #histogram(
    group: Group,
    operation: string,
    totals: OperationTotals,
    name: string,
    out: Sample[],
  ): void {
    const base = this.#labels(group, { operation });
    const { buckets } = totals;
    let cumulative = 0;
    for (let i = 0; i < this.#le.length; i++) {
      cumulative += buckets[i]!;
      out.push({
        metricName: `${name}_bucket`,
        labels: { ...base, le: this.#le[i]! },
        value: cumulative,
      });
    }
    cumulative += buckets[this.#le.length]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...base, le: '+Inf' }, value: cumulative });
    out.push({ metricName: `${name}_sum`, labels: base, value: totals.sumMs / 1000 });
    out.push({ metricName: `${name}_count`, labels: base, value: cumulative });
  }

  #ratios(group: Group, out: Sample[]): void {
    let bySha = 0;
    let byText = 0;
    let hits = 0;
    let misses = 0;
    for (const read of group.stats.values()) {
      let stats: ExecutorStats;
      try {
        stats = read();
      } catch {
        continue; // a broken stats reader must not fail the whole scrape
      }
      bySha += stats.scriptCallsBySha;
      byText += stats.scriptCallsByText;
      hits += stats.nearCacheHits;
      misses += stats.nearCacheMisses;
    }
    // A ratio of nothing is not 0: the series is left out until there is something to count.
    if (bySha + byText > 0) {
      out.push({
        labels: this.#labels(group, { cache_type: 'script' }),
        value: bySha / (bySha + byText),
      });
    }
    if (hits + misses > 0) {
      out.push({
        labels: this.#labels(group, { cache_type: 'near' }),
        value: hits / (hits + misses),
      });
    }
  }

  async #infoErrors(out: Sample[]): Promise<void> {
    if (!this.#reader) return;
    // Wait for this scrape's read, so that a timeout is counted in the scrape that saw it.
    await this.#reader.read();
    out.push({ labels: this.#infoLabels({}), value: this.#reader.errors });
  }

  async #info(kind: Kind, out: Sample[]): Promise<void> {
    if (!this.#reader) return;
    const nodes = await this.#reader.read();
    for (const [node, info] of nodes) {
      if (kind === 'keys') {
        for (const [db, keys] of info.keys)
          out.push({ labels: this.#infoLabels({ node, db }), value: keys });
        continue;
      }
      const value = pick(kind, info);
      if (value !== undefined) out.push({ labels: this.#infoLabels({ node }), value });
    }
  }

  reset(kind: string): void {
    switch (kind as Kind) {
      case 'operations':
      case 'duration':
      case 'errors':
        for (const group of this.#groups.values()) group.figures.reset();
        return;
      case 'scriptLoads':
        for (const group of this.#groups.values()) group.scriptLoads = 0;
        return;
      case 'noscript':
        for (const group of this.#groups.values()) group.noscriptReloads = 0;
        return;
      case 'reconnects':
        for (const group of this.#groups.values()) group.reconnects = 0;
        return;
      case 'infoErrors':
        if (this.#reader) this.#reader.errors = 0;
        return;
      default:
        return; // gauges are levels read at scrape time: nothing to reset
    }
  }

  disposeReader(): void {
    this.#reader?.dispose();
  }

  static specs(prefix: string, withInfo: boolean): (FamilySpec & { kind: Kind })[] {
    const specs = withInfo ? [...SPECS, ...INFO_SPECS] : SPECS;
    return specs.map(({ suffix, ...spec }) => ({ ...spec, name: `${prefix}${suffix}` }));
  }
}

function pick(kind: Kind, info: NodeInfo): number | undefined {
  switch (kind) {
    case 'usedMemory':
      return info.usedMemory;
    case 'maxmemory':
      return info.maxmemory;
    case 'clients':
      return info.connectedClients;
    case 'opsPerSec':
      return info.opsPerSec;
    default:
      return undefined;
  }
}

/**
 * Exposes an executor's diagnostics as Prometheus metrics on `options.registry` and returns a
 * function that unsubscribes and removes those metrics again. Call it before creating the
 * executor, or pass `executorInstance`, so that script-cache ratios and connection state are
 * known from the start. Nothing runs per call: the executor records each call once (its
 * telemetry, shared with the analyzer), and the figures are read when the registry is
 * scraped.
 *
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const dispose = instrumentExecutor({ registry, redis });
 * const executor = createRedisExecutor({ redis });
 * // ... registry.metrics() in the /metrics route; dispose() on shutdown
 * @throws SR_METRICS_OPTIONS when an option is invalid
 * @throws SR_METRICS_CONFLICT when a metric name is already taken on the registry
 */
export function instrumentExecutor(options: InstrumentOptions): () => void {
  checkOptions(options);
  const registry = options.registry;
  const instrumentation = new Instrumentation(options);
  const families: MetricFamily[] = registerFamilies(
    registry,
    Instrumentation.specs(options.prefix ?? DEFAULT_PREFIX, options.redis !== undefined),
    instrumentation,
  );

  const instance = options.executorInstance;
  if (instance !== undefined) {
    instrumentation.trackExecutor(instance.name, () => instance.stats());
    // A TunableExecutor (the Redis backend) says what state each of its connections is in.
    const states = (instance as Partial<TunableExecutor>).connectionStates;
    if (states !== undefined) {
      for (const { connection, state } of states) {
        instrumentation.connectionState(instance.name, connection, state);
      }
    }
  }

  // ---- what the executors record: read at scrape, nothing per call --------------------
  if (instance !== undefined) instrumentation.watch(instance.telemetry);
  for (const telemetry of liveTelemetry()) instrumentation.watch(telemetry);

  // ---- point channels: rare events ---------------------------------------------------
  const onScriptLoad = (message: unknown): void => {
    const m = message as ScriptLoadMessage;
    if (instrumentation.accepts(m.executor)) instrumentation.group(m.executor).scriptLoads++;
  };
  const onNoscript = (message: unknown): void => {
    const m = message as NoscriptMessage;
    if (instrumentation.accepts(m.executor)) instrumentation.group(m.executor).noscriptReloads++;
  };
  const onConnection = (message: unknown): void => {
    const m = message as ConnectionMessage;
    if (instrumentation.accepts(m.executor)) {
      instrumentation.connectionState(m.executor, m.connection, m.state);
    }
  };
  const onCreate = (message: unknown): void => {
    const m = message as ExecutorLifecycleMessage;
    if (!instrumentation.accepts(m.executor)) return;
    instrumentation.trackExecutor(m.executor, m.stats);
    if (m.telemetry) instrumentation.watch(m.telemetry);
  };
  const onClose = (message: unknown): void => {
    const m = message as ExecutorLifecycleMessage;
    if (!instrumentation.accepts(m.executor)) return;
    instrumentation.forgetExecutor(m.executor);
    if (m.telemetry) instrumentation.retire(m.telemetry);
  };

  const subscriptions: [diagnostics.Channel, (message: unknown) => void][] = [
    [diagnostics.channel(EXECUTOR_CHANNELS.scriptLoad), onScriptLoad],
    [diagnostics.channel(EXECUTOR_CHANNELS.noscript), onNoscript],
    [diagnostics.channel(EXECUTOR_CHANNELS.connection), onConnection],
    [diagnostics.channel(EXECUTOR_CHANNELS.create), onCreate],
    [diagnostics.channel(EXECUTOR_CHANNELS.close), onClose],
  ];
  for (const [channel, handler] of subscriptions) channel.subscribe(handler);

  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    for (const [channel, handler] of subscriptions) channel.unsubscribe(handler);
    instrumentation.releaseTelemetry();
    instrumentation.disposeReader();
    unregisterFamilies(registry, families, instrumentation);
  };
}
