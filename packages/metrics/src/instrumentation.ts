/**
 * One `instrumentExecutor()` call's state and collectors: the figures of each `executor`
 * label value (read from the executors' telemetry at scrape time), the counts of the rare
 * channel events, and the samples of each family when the registry is scraped.
 */
import { bucketLabels, histogramSamples } from './histogram-samples.js';
import {
  ALLOCATION_RESULTS,
  CLAIM_RELEASE_CAUSES,
  CONNECTION_STATES,
  ERROR_TYPES,
  METRIC_LABELS,
  OPERATION_STATUS,
  type ConnectionState,
  type ExecutorStats,
  type ExecutorTelemetry,
} from '@stateful-route/executor-core';
import { PLACEMENT_LABELS, type Kind } from './family-specs.js';
import type { FamilyMember, Sample } from './metric-family.js';
import { DEFAULT_BUCKETS, type InstrumentOptions } from './options.js';
import { OperationFigures, type OperationTotals } from './operation-stats.js';
import { RedisInfoReader, type NodeInfo } from './redis-info.js';

const {
  executor: EXECUTOR,
  operation: OPERATION,
  status: STATUS,
  errorType: ERROR_TYPE,
  cacheType: CACHE_TYPE,
  node: NODE,
  db: DB,
} = METRIC_LABELS;

/** The counter families fed by channel events. */
type EventKind = Extract<Kind, 'scriptLoads' | 'noscriptReloads' | 'reconnects'>;

/** The counter families of cache hits and misses, read from the executors' `stats()`. */
type CacheKind = Extract<Kind, 'cacheHits' | 'cacheMisses'>;

/** The `cache_type` values. */
type CacheType = 'script' | 'near';

/** Hits and misses of both caches (`ExecutorStats` fields, cumulative since creation). */
interface CacheCounts {
  script: { hits: number; misses: number };
  near: { hits: number; misses: number };
}

function zeroCounts(): CacheCounts {
  return { script: { hits: 0, misses: 0 }, near: { hits: 0, misses: 0 } };
}

function countsOf(stats: ExecutorStats): CacheCounts {
  return {
    script: { hits: stats.scriptCallsBySha, misses: stats.scriptCallsByText },
    near: { hits: stats.nearCacheHits, misses: stats.nearCacheMisses },
  };
}

function addCounts(into: CacheCounts, other: CacheCounts): void {
  for (const type of CACHE_TYPES) {
    into[type].hits += other[type].hits;
    into[type].misses += other[type].misses;
  }
}

const CACHE_TYPES: readonly CacheType[] = ['script', 'near'];

/** The numbers of one `executor` label value (or of every executor when not labelled). */
interface Group {
  /** The `executor` label value; undefined when not labelled. */
  readonly label: string | undefined;
  readonly figures: OperationFigures;
  /** The counters of rare channel events, by family. */
  readonly events: Record<EventKind, number>;
  /** Executor name -> its stats reader (from the create event or `executorInstance`). */
  readonly stats: Map<string, () => ExecutorStats>;
  /** `executor \0 connection` -> last state. */
  readonly connections: Map<string, ConnectionState>;
  /** Executor name -> its cache counts at the last good read (what a failing read serves). */
  readonly lastCache: Map<string, CacheCounts>;
  /** Cache counts left by executors that closed: the counters never go back. */
  readonly retiredCache: CacheCounts;
  /** The cache counts when each cache counter family was last reset (zero before). */
  readonly cacheBaseline: Record<CacheKind, CacheCounts>;
  /** The cache types that have had a hit or a miss: their counter series stay. */
  readonly cacheSeen: Set<CacheType>;
}

/** One `instrumentExecutor()` call: the numbers and the collectors. */
export class Instrumentation implements FamilyMember {
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
    this.#le = bucketLabels(buckets);
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
      events: { scriptLoads: 0, noscriptReloads: 0, reconnects: 0 },
      stats: new Map(),
      connections: new Map(),
      lastCache: new Map(),
      retiredCache: zeroCounts(),
      cacheBaseline: { cacheHits: zeroCounts(), cacheMisses: zeroCounts() },
      cacheSeen: new Set(),
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
    // What the executor counted stays in the cache counters: its last figures are kept.
    const read = group.stats.get(name);
    if (read !== undefined) {
      const last = this.#readCache(group, name, read);
      if (last !== undefined) addCounts(group.retiredCache, last);
    }
    group.lastCache.delete(name);
    group.stats.delete(name);
    const prefix = `${name}\0`;
    for (const key of group.connections.keys()) {
      if (key.startsWith(prefix)) group.connections.delete(key);
    }
  }

  /** A `SCRIPT LOAD` of an accepted executor. */
  scriptLoaded(executor: string): void {
    this.group(executor).events.scriptLoads++;
  }

  /** A NOSCRIPT reply of an accepted executor, answered by sending the script again. */
  noscriptReloaded(executor: string): void {
    this.group(executor).events.noscriptReloads++;
  }

  connectionState(executor: string, connection: string, state: ConnectionState): void {
    const group = this.group(executor);
    if (state === 'reconnecting') group.events.reconnects++;
    // Events of a closed executor (its clients ending after close) would bring it back.
    if (!this.#closed.has(executor)) group.connections.set(`${executor}\0${connection}`, state);
  }

  // ---- scrape -------------------------------------------------------------------------

  #labels(group: Group, extra: Record<string, string>): Record<string, string> {
    return group.label === undefined ? extra : { [EXECUTOR]: group.label, ...extra };
  }

  #infoLabels(extra: Record<string, string>): Record<string, string> {
    // INFO figures belong to the Redis client, not to an executor: labelled only when this
    // instrumentation is restricted to one executor, which keeps shared families apart.
    return this.#labelled && this.#filter !== undefined
      ? { [EXECUTOR]: this.#filter, ...extra }
      : extra;
  }

  collect(kind: string, name: string, out: Sample[]): void | Promise<void> {
    switch (kind as Kind) {
      case 'operations':
        for (const group of this.#groups.values()) {
          for (const { operation, totals } of group.figures.collect()) {
            out.push({
              labels: this.#labels(group, {
                [OPERATION]: operation,
                [STATUS]: OPERATION_STATUS.success,
              }),
              value: totals.calls - totals.failures,
            });
            out.push({
              labels: this.#labels(group, {
                [OPERATION]: operation,
                [STATUS]: OPERATION_STATUS.error,
              }),
              value: totals.failures,
            });
          }
        }
        return;
      case 'operationDuration':
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
                  labels: this.#labels(group, {
                    [OPERATION]: operation,
                    [ERROR_TYPE]: ERROR_TYPES[i]!,
                  }),
                  value: count,
                });
              }
            });
          }
        }
        return;
      case 'operationsInFlight':
        for (const group of this.#groups.values()) {
          for (const { operation, inFlight } of group.figures.collect()) {
            out.push({ labels: this.#labels(group, { [OPERATION]: operation }), value: inFlight });
          }
        }
        return;
      case 'cacheHitRatio':
        for (const group of this.#groups.values()) this.#ratios(group, out);
        return;
      case 'cacheHits':
      case 'cacheMisses':
        for (const group of this.#groups.values())
          this.#cacheCounters(group, kind as CacheKind, out);
        return;
      case 'connectionStatus':
        for (const group of this.#groups.values()) {
          if (group.connections.size === 0) continue;
          for (const status of CONNECTION_STATES) {
            let count = 0;
            for (const state of group.connections.values()) if (state === status) count++;
            out.push({ labels: this.#labels(group, { [STATUS]: status }), value: count });
          }
        }
        return;
      case 'scriptLoads':
      case 'noscriptReloads':
      case 'reconnects':
        for (const group of this.#groups.values()) {
          out.push({ labels: this.#labels(group, {}), value: group.events[kind as EventKind] });
        }
        return;
      case 'allocations':
        for (const group of this.#groups.values()) {
          const { allocations } = group.figures.placement();
          for (const result of ALLOCATION_RESULTS) {
            out.push({
              labels: this.#labels(group, { [PLACEMENT_LABELS.result]: result }),
              value: allocations[result],
            });
          }
        }
        return;
      case 'claimsReleased':
        for (const group of this.#groups.values()) {
          const { claimsReleased } = group.figures.placement();
          for (const cause of CLAIM_RELEASE_CAUSES) {
            out.push({
              labels: this.#labels(group, { [PLACEMENT_LABELS.cause]: cause }),
              value: claimsReleased[cause],
            });
          }
        }
        return;
      case 'placementSweeps':
      case 'linksSwept':
        for (const group of this.#groups.values()) {
          const totals = group.figures.placement();
          out.push({
            labels: this.#labels(group, {}),
            value: kind === 'placementSweeps' ? totals.sweeps : totals.linksSwept,
          });
        }
        return;
      case 'redisInfoErrors':
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
    const labels = this.#labels(group, { [OPERATION]: operation });
    histogramSamples(name, this.#le, totals.buckets, totals.sumMs / 1000, labels, out);
  }

  /** An executor's cache counts now, or at its last good read when `stats()` throws. */
  #readCache(group: Group, name: string, read: () => ExecutorStats): CacheCounts | undefined {
    try {
      const counts = countsOf(read());
      group.lastCache.set(name, counts);
      return counts;
    } catch {
      return group.lastCache.get(name); // a broken stats reader must not fail the whole scrape
    }
  }

  /** Hits and misses of every executor of the group since its creation, closed ones included. */
  #cacheTotals(group: Group): CacheCounts {
    const totals = zeroCounts();
    addCounts(totals, group.retiredCache);
    for (const [name, read] of group.stats) {
      const counts = this.#readCache(group, name, read);
      if (counts !== undefined) addCounts(totals, counts);
    }
    return totals;
  }

  #cacheCounters(group: Group, kind: CacheKind, out: Sample[]): void {
    const totals = this.#cacheTotals(group);
    const base = group.cacheBaseline[kind];
    for (const type of CACHE_TYPES) {
      // Like the ratio, a cache that never counted anything (no script call yet, no near
      // cache) has no series; once it has, both counters stay, at 0 after a reset.
      if (totals[type].hits + totals[type].misses > 0) group.cacheSeen.add(type);
      if (!group.cacheSeen.has(type)) continue;
      const field = kind === 'cacheHits' ? 'hits' : 'misses';
      out.push({
        labels: this.#labels(group, { [CACHE_TYPE]: type }),
        value: Math.max(0, totals[type][field] - base[type][field]),
      });
    }
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
        labels: this.#labels(group, { [CACHE_TYPE]: 'script' }),
        value: bySha / (bySha + byText),
      });
    }
    if (hits + misses > 0) {
      out.push({
        labels: this.#labels(group, { [CACHE_TYPE]: 'near' }),
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
      if (kind === 'redisKeys') {
        for (const [db, keys] of info.keys)
          out.push({ labels: this.#infoLabels({ [NODE]: node, [DB]: db }), value: keys });
        continue;
      }
      const value = pick(kind, info);
      if (value !== undefined) out.push({ labels: this.#infoLabels({ [NODE]: node }), value });
    }
  }

  reset(kind: string): void {
    switch (kind as Kind) {
      case 'operations':
      case 'operationDuration':
      case 'errors':
        for (const group of this.#groups.values()) group.figures.reset();
        return;
      case 'allocations':
      case 'claimsReleased':
      case 'placementSweeps':
      case 'linksSwept':
        // Like the three operation families, the four placement ones share one baseline.
        for (const group of this.#groups.values()) group.figures.resetPlacement();
        return;
      case 'scriptLoads':
      case 'noscriptReloads':
      case 'reconnects':
        for (const group of this.#groups.values()) group.events[kind as EventKind] = 0;
        return;
      case 'cacheHits':
      case 'cacheMisses':
        for (const group of this.#groups.values()) {
          group.cacheBaseline[kind as CacheKind] = this.#cacheTotals(group);
        }
        return;
      case 'redisInfoErrors':
        if (this.#reader) this.#reader.errors = 0;
        return;
      default:
        return; // gauges are levels read at scrape time: nothing to reset
    }
  }

  disposeReader(): void {
    this.#reader?.dispose();
  }
}

function pick(kind: Kind, info: NodeInfo): number | undefined {
  switch (kind) {
    case 'redisUsedMemory':
      return info.usedMemory;
    case 'redisMaxmemory':
      return info.maxmemory;
    case 'redisConnectedClients':
      return info.connectedClients;
    case 'redisOpsPerSecond':
      return info.opsPerSec;
    default:
      return undefined;
  }
}
