/**
 * The live analyzer: listens to executor-core's diagnostics channels and keeps, per
 * operation, counts, errors by type, an HDR latency histogram (µs) since start, and a
 * sliding window of time slices for the timeline; plus process and Redis figures for the
 * same span. It depends only on executor-core's channel names and types, never on metrics.
 */
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { CHANNELS } from '@stateful-route/executor-core';
import type {
  ErrorType,
  ExecutorDescription,
  ExecutorLifecycleMessage,
  ExecutorStats,
  OperationMessage,
  StatefulExecutor,
} from '@stateful-route/executor-core';
import { InvalidOptionError } from './errors.js';
import { createHdr, summarize, toCompact, toMicros } from './latency-histogram.js';
import type { Hdr } from './latency-histogram.js';
import { startProcessMonitor } from './process-monitor.js';
import type { ProcessMonitor } from './process-monitor.js';
import { readRedisInfo, redisDelta } from './redis-info.js';
import type { RedisInfoReading, RedisInfoSource } from './redis-info.js';
import { emptyErrorsByType, SNAPSHOT_SCHEMA_VERSION } from './snapshot.js';
import type {
  AnalysisSnapshot,
  OperationSnapshot,
  RedisSnapshot,
  TimelineSlice,
} from './snapshot.js';

/** Options of `createAnalyzer`. */
export interface AnalyzerOptions {
  /**
   * Listen only to this executor: its name, or the executor itself (then its `describe()`
   * fills the provenance and its `stats()` deltas go in `executorStats`). Default: every
   * executor of the process.
   */
  executor?: string | StatefulExecutor;
  /** A Redis client (ioredis `Redis` or `Cluster`) to read `INFO` deltas from. */
  redis?: RedisInfoSource;
  /** Length of the sliding window kept for the timeline, in seconds. Default 60. */
  windowSeconds?: number;
  /** Length of one timeline slice, in seconds. Default 1. */
  sliceSeconds?: number;
  /** Wall clock in ms since the epoch; inject one in tests. Default `Date.now`. */
  now?: () => number;
  /** Watch event-loop delay, memory and GC. Default true. */
  processMetrics?: boolean;
}

/** One completed call, as the analyzer records it. */
export interface OperationSample {
  operation: string;
  /** Elapsed milliseconds. */
  durationMs: number;
  /** The error type when the call failed. */
  errorType?: ErrorType;
  /** Answered from the near cache. */
  cached?: boolean;
  /** Signed heap delta in bytes (analyzeOperation only). */
  allocatedBytes?: number;
}

/** Which span `snapshot()` covers. */
export interface SnapshotOptions {
  /**
   * `total` (default): everything since creation or the last `reset()`, at 0.1% precision.
   * `window`: only the last `windowSeconds`, from the slice histograms (1% precision).
   */
  scope?: 'total' | 'window';
}

/** A live analyzer. Call `close()` when done: it holds channel subscriptions and timers. */
export interface Analyzer {
  /** The figures so far, with the Redis figures of the last `capture()`. */
  snapshot(options?: SnapshotOptions): AnalysisSnapshot;
  /** Reads fresh Redis `INFO` (when a client was given), then returns `snapshot()`. */
  capture(options?: SnapshotOptions): Promise<AnalysisSnapshot>;
  /** Starts a new span: forgets every figure and takes new baselines. */
  reset(): void;
  /** Unsubscribes and stops the process monitor. Idempotent. */
  close(): void;
  /**
   * Times one call of code outside the executor under `name`: success or error, latency,
   * and the signed heap delta (negative when a GC ran during the call). Rethrows.
   * @example
   * const user = await analyzer.analyzeOperation('loadUser', () => db.load(id));
   */
  analyzeOperation<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Records one completed call directly (what the channel listener does). */
  record(sample: OperationSample): void;
}

interface OperationTotals {
  histogram: Hdr;
  count: number;
  errors: number;
  errorsByType: Record<ErrorType, number>;
  cached: number;
  allocationCalls: number;
  allocationBytes: number;
}

interface SliceEntry {
  histogram: Hdr;
  count: number;
  errors: number;
  errorsByType: Record<ErrorType, number>;
}

interface Slice {
  index: number;
  operations: Map<string, SliceEntry>;
}

const requireJson = createRequire(import.meta.url);

function packageVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const [name, specifier] of [
    ['@stateful-route/analyzer', '../package.json'],
    ['@stateful-route/executor-core', '@stateful-route/executor-core/package.json'],
  ] as const) {
    try {
      versions[name] = (requireJson(specifier) as { version: string }).version;
    } catch {
      // Bundled or relocated: provenance without that version rather than a failure.
    }
  }
  return versions;
}

const ZERO_STATS: ExecutorStats = {
  scriptCallsBySha: 0,
  scriptCallsByText: 0,
  noscriptReloads: 0,
  scriptsLoaded: 0,
  nearCacheHits: 0,
  nearCacheMisses: 0,
  nearCacheInvalidations: 0,
  reconnects: 0,
};

function statsDelta(before: ExecutorStats, after: ExecutorStats): ExecutorStats {
  const result = { ...ZERO_STATS };
  for (const key of Object.keys(ZERO_STATS) as (keyof ExecutorStats)[]) {
    result[key] = Math.max(0, after[key] - before[key]);
  }
  return result;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(name, `must be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * Creates a live analyzer subscribed to the executor channels of this process.
 * @throws SR_ANALYZER_INVALID_OPTION when a window or slice length is not positive, or the
 *   window is shorter than a slice.
 * @example
 * const analyzer = createAnalyzer({ executor, redis });
 * // ... traffic ...
 * const snapshot = await analyzer.capture();
 * analyzer.close();
 */
export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const windowSeconds = positive('windowSeconds', options.windowSeconds, 60);
  const sliceSeconds = positive('sliceSeconds', options.sliceSeconds, 1);
  if (windowSeconds < sliceSeconds) {
    throw new InvalidOptionError('windowSeconds', 'must be at least sliceSeconds');
  }
  const sliceMs = sliceSeconds * 1000;
  const slicesKept = Math.max(1, Math.round(windowSeconds / sliceSeconds));
  const now = options.now ?? Date.now;
  const executorInstance = typeof options.executor === 'object' ? options.executor : undefined;
  const executorName =
    typeof options.executor === 'string' ? options.executor : executorInstance?.name;
  const packages = packageVersions();

  let startMs = now();
  let operations = new Map<string, OperationTotals>();
  let slices: Slice[] = [];
  const slicePool: Hdr[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let busyMs = 0;
  const started = new WeakSet<object>();

  let description: ExecutorDescription | undefined = executorInstance?.describe();
  let readStats: (() => ExecutorStats) | undefined = executorInstance
    ? () => executorInstance.stats()
    : undefined;
  let statsBaseline: ExecutorStats | undefined = readStats?.();

  const processMonitor: ProcessMonitor | undefined =
    options.processMetrics === false ? undefined : startProcessMonitor();

  let redisBaseline: Promise<RedisInfoReading | undefined> | undefined;
  let redisFigures: RedisSnapshot | undefined;
  const readRedis = (): Promise<RedisInfoReading | undefined> | undefined => {
    const redis = options.redis;
    if (!redis) return undefined;
    // A failed INFO must not break the analysis: the snapshot then has no redis section.
    return readRedisInfo(redis).catch(() => undefined);
  };
  redisBaseline = readRedis();

  const takeSliceHistogram = (): Hdr => {
    const reused = slicePool.pop();
    if (reused) return reused;
    return createHdr(2);
  };

  const currentSlice = (at: number): Slice => {
    const index = Math.max(0, Math.floor((at - startMs) / sliceMs));
    const last = slices[slices.length - 1];
    if (last && last.index === index) return last;
    if (last && last.index > index) {
      // A clock that went back (or an injected one): keep counting in the newest slice.
      return last;
    }
    const slice: Slice = { index, operations: new Map() };
    slices.push(slice);
    while (slices.length > 0 && (slices[0]?.index ?? 0) <= index - slicesKept) {
      const dropped = slices.shift();
      for (const entry of dropped?.operations.values() ?? []) {
        entry.histogram.reset();
        slicePool.push(entry.histogram);
      }
    }
    return slice;
  };

  const record = (sample: OperationSample): void => {
    const us = toMicros(sample.durationMs);
    let totals = operations.get(sample.operation);
    if (!totals) {
      totals = {
        histogram: createHdr(3),
        count: 0,
        errors: 0,
        errorsByType: emptyErrorsByType(),
        cached: 0,
        allocationCalls: 0,
        allocationBytes: 0,
      };
      operations.set(sample.operation, totals);
    }
    totals.histogram.record(us);
    totals.count += 1;
    if (sample.errorType) {
      totals.errors += 1;
      totals.errorsByType[sample.errorType] += 1;
    }
    if (sample.cached) totals.cached += 1;
    if (sample.allocatedBytes !== undefined) {
      totals.allocationCalls += 1;
      totals.allocationBytes += sample.allocatedBytes;
    }
    busyMs += Math.max(0, sample.durationMs);

    const slice = currentSlice(now());
    let entry = slice.operations.get(sample.operation);
    if (!entry) {
      entry = {
        histogram: takeSliceHistogram(),
        count: 0,
        errors: 0,
        errorsByType: emptyErrorsByType(),
      };
      slice.operations.set(sample.operation, entry);
    }
    entry.histogram.record(us);
    entry.count += 1;
    if (sample.errorType) {
      entry.errors += 1;
      entry.errorsByType[sample.errorType] += 1;
    }
  };

  const matches = (message: OperationMessage): boolean =>
    executorName === undefined || message.executor === executorName;

  const onStart = (raw: unknown): void => {
    const message = raw as OperationMessage;
    if (!matches(message)) return;
    started.add(message);
    inFlight += 1;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
  };
  const onAsyncEnd = (raw: unknown): void => {
    const message = raw as OperationMessage;
    if (!matches(message)) return;
    // Calls that started before the analyzer subscribed are timed but not counted in flight.
    if (started.delete(message)) inFlight = Math.max(0, inFlight - 1);
    record({
      operation: message.operation,
      durationMs: message.duration,
      ...(message.errorType ? { errorType: message.errorType } : {}),
      cached: message.cached,
    });
  };
  const noop = (): void => {};
  const handlers = {
    start: onStart,
    end: noop,
    asyncStart: noop,
    asyncEnd: onAsyncEnd,
    error: noop,
  };
  const tracing = diagnostics.tracingChannel(CHANNELS.operation);
  tracing.subscribe(handlers);

  const onCreate = (raw: unknown): void => {
    const message = raw as ExecutorLifecycleMessage;
    if (executorName === undefined || message.executor !== executorName) return;
    // An executor created after the analyzer: its counters start at zero.
    description = message.description;
    readStats = message.stats;
    statsBaseline = { ...ZERO_STATS };
  };
  diagnostics.subscribe(CHANNELS.create, onCreate);

  let closed = false;

  const snapshot = (snapshotOptions: SnapshotOptions = {}): AnalysisSnapshot => {
    const endMs = now();
    const scope = snapshotOptions.scope ?? 'total';
    const elapsedMs = Math.max(0, endMs - startMs);
    // A span ending exactly on a slice boundary has no part of the next slice.
    const lastIndex = Math.max(0, Math.ceil(elapsedMs / sliceMs) - 1);
    const firstIndex = Math.max(0, lastIndex - slicesKept + 1);
    const spanStartMs = scope === 'window' ? startMs + firstIndex * sliceMs : startMs;
    const spanMs = Math.max(1, endMs - spanStartMs);
    const seconds = spanMs / 1000;

    const names = new Set<string>(operations.keys());
    const result: Record<string, OperationSnapshot> = {};
    for (const name of [...names].sort()) {
      const totals = operations.get(name);
      if (!totals) continue;
      const timeline: TimelineSlice[] = [];
      const windowHistogram = scope === 'window' ? createHdr(2) : undefined;
      let windowCount = 0;
      let windowErrors = 0;
      const windowErrorsByType = emptyErrorsByType();
      const byIndex = new Map<number, SliceEntry>();
      for (const slice of slices) {
        const entry = slice.operations.get(name);
        if (entry && slice.index >= firstIndex) byIndex.set(slice.index, entry);
      }
      for (let index = firstIndex; index <= lastIndex; index += 1) {
        const entry = byIndex.get(index);
        const t = Math.round(index * sliceSeconds * 1000) / 1000;
        if (!entry) {
          timeline.push({ t, count: 0, errors: 0, p99: 0 });
          continue;
        }
        timeline.push({
          t,
          count: entry.count,
          errors: entry.errors,
          p99: Math.round(entry.histogram.valueAtPercentile(99)) / 1000,
        });
        if (windowHistogram) {
          windowHistogram.add(entry.histogram);
          windowCount += entry.count;
          windowErrors += entry.errors;
          for (const [type, n] of Object.entries(entry.errorsByType)) {
            windowErrorsByType[type as ErrorType] += n;
          }
        }
      }
      const histogram = windowHistogram ?? totals.histogram;
      const count = windowHistogram ? windowCount : totals.count;
      if (count === 0) continue;
      const operation: OperationSnapshot = {
        count,
        errors: windowHistogram ? windowErrors : totals.errors,
        errorsByType: windowHistogram ? windowErrorsByType : { ...totals.errorsByType },
        throughput: Math.round((count / seconds) * 100) / 100,
        cached: totals.cached,
        latency: summarize(histogram),
        histogram: toCompact(histogram),
        timeline,
      };
      if (totals.allocationCalls > 0) {
        operation.allocation = {
          meanBytes: Math.round(totals.allocationBytes / totals.allocationCalls),
          totalBytes: totals.allocationBytes,
        };
      }
      result[name] = operation;
    }

    let count = 0;
    let errors = 0;
    for (const operation of Object.values(result)) {
      count += operation.count;
      errors += operation.errors;
    }
    // Read at snapshot time: the optimizer may have switched transport, pipelining or the
    // near cache since the analyzer started, and the provenance must say what ran last.
    const current = executorInstance ? executorInstance.describe() : description;
    const snap: AnalysisSnapshot = {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      source: 'live',
      provenance: {
        packages: { ...packages },
        node: process.version,
        backend: current?.backend ?? null,
        topology: current?.topology ?? null,
        scriptTransport: current?.scriptTransport ?? null,
        autoPipelining: current?.autoPipelining ?? null,
        connections: current?.connections ?? null,
        nearCache: current?.nearCache ? { ...current.nearCache } : null,
        executor: executorName ?? null,
        startedAt: new Date(spanStartMs).toISOString(),
        endedAt: new Date(endMs).toISOString(),
        durationSeconds: Math.round(seconds * 1000) / 1000,
      },
      operations: result,
      totals: {
        count,
        errors,
        errorRate: count === 0 ? 0 : errors / count,
        throughput: Math.round((count / seconds) * 100) / 100,
      },
      concurrency: {
        maxInFlight,
        meanInFlight: Math.round((busyMs / Math.max(1, elapsedMs)) * 100) / 100,
      },
    };
    if (processMonitor) snap.process = processMonitor.snapshot();
    if (redisFigures) snap.redis = redisFigures;
    if (readStats && statsBaseline) snap.executorStats = statsDelta(statsBaseline, readStats());
    return snap;
  };

  const analyzer: Analyzer = {
    snapshot,
    async capture(snapshotOptions?: SnapshotOptions): Promise<AnalysisSnapshot> {
      const baseline = redisBaseline;
      const latest = readRedis();
      if (baseline && latest) {
        const [before, after] = await Promise.all([baseline, latest]);
        if (before && after) redisFigures = redisDelta(before, after);
      }
      return snapshot(snapshotOptions);
    },
    reset(): void {
      startMs = now();
      for (const slice of slices) {
        for (const entry of slice.operations.values()) {
          entry.histogram.reset();
          slicePool.push(entry.histogram);
        }
      }
      slices = [];
      operations = new Map();
      maxInFlight = inFlight;
      busyMs = 0;
      statsBaseline = readStats?.();
      processMonitor?.reset();
      redisFigures = undefined;
      redisBaseline = readRedis();
    },
    close(): void {
      if (closed) return;
      closed = true;
      tracing.unsubscribe(handlers);
      diagnostics.unsubscribe(CHANNELS.create, onCreate);
      processMonitor?.stop();
    },
    async analyzeOperation<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
      const heapBefore = process.memoryUsage().heapUsed;
      const startedAt = performance.now();
      inFlight += 1;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      let errorType: ErrorType | undefined;
      try {
        return await fn();
      } catch (error) {
        errorType = errorTypeOfUnknown(error);
        throw error;
      } finally {
        const durationMs = performance.now() - startedAt;
        inFlight = Math.max(0, inFlight - 1);
        // Signed on purpose: a GC during the call makes it negative, which is information,
        // where an unsigned subtraction would wrap to a huge number.
        const allocatedBytes = process.memoryUsage().heapUsed - heapBefore;
        record({
          operation: name,
          durationMs,
          allocatedBytes,
          ...(errorType ? { errorType } : {}),
        });
      }
    },
    record,
  };
  return analyzer;
}

function errorTypeOfUnknown(error: unknown): ErrorType {
  // Duck-typed so that errors from another copy of executor-core still classify.
  const type = (error as { errorType?: unknown } | null)?.errorType;
  return typeof type === 'string' &&
    ['validation', 'connection', 'timeout', 'script', 'cluster', 'other'].includes(type)
    ? (type as ErrorType)
    : 'other';
}
