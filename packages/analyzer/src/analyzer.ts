/**
 * The live analyzer: reads what the executors recorded (their `ExecutorTelemetry`, attached
 * with `{ latency: true }`) and keeps, per operation, counts, errors by type, an HDR latency
 * histogram (µs) since start, and a sliding window of time slices for the timeline; plus
 * process and Redis figures for the same span. It does no work per executor call: the
 * executor records every call once for all its consumers, and the analyzer pulls the
 * differences once per slice and at every snapshot. It depends only on executor-core's
 * exports, never on metrics.
 */
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import {
  CHANNELS,
  ERROR_TYPES as RECORDED_ERROR_TYPES,
  liveTelemetry,
  ZERO_EXECUTOR_STATS,
} from '@stateful-route/executor-core';
import type {
  ErrorType,
  ExecutorDescription,
  ExecutorLifecycleMessage,
  ExecutorStats,
  ExecutorTelemetry,
  OperationRecord,
  StatefulExecutor,
  TelemetryAttachment,
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
   * Watch only this executor: its name (every open executor of that name, and those created
   * later), or the executor itself (then its `describe()` fills the provenance and its
   * `stats()` deltas go in `executorStats`). Default: every executor of the process.
   */
  executor?: string | StatefulExecutor;
  /** A Redis client (ioredis `Redis` or `Cluster`) to read `INFO` deltas from. */
  redis?: RedisInfoSource;
  /** Length of the sliding window kept for the timeline, in seconds. Default 60. */
  windowSeconds?: number;
  /** Length of one timeline slice, in seconds. Default 1. */
  sliceSeconds?: number;
  /**
   * The clock, in ms since the epoch; inject one in tests. Default: monotonic and aligned
   * with the epoch when the process started (`performance.timeOrigin + performance.now()`),
   * so that a step of the machine's wall clock (NTP on a VM) neither moves calls between
   * slices nor stretches a span. `startedAt`/`endedAt` may differ from the wall clock by
   * whatever the wall clock has been stepped or slewed since the process started.
   */
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

/**
 * A live analyzer. Call `close()` when done: it holds attachments to executors' telemetry,
 * channel subscriptions and timers.
 */
export interface Analyzer {
  /** The figures so far (read from the executors now), with the Redis figures of the last `capture()`. */
  snapshot(options?: SnapshotOptions): AnalysisSnapshot;
  /** Reads fresh Redis `INFO` (when a client was given), then returns `snapshot()`. */
  capture(options?: SnapshotOptions): Promise<AnalysisSnapshot>;
  /** Starts a new span: forgets every figure and takes new baselines. */
  reset(): void;
  /**
   * Reads the executors a last time, releases them, unsubscribes and stops the timers and
   * the process monitor. Idempotent.
   */
  close(): void;
  /**
   * Times one call of code outside the executor under `name`: success or error, latency,
   * and the signed heap delta (negative when a GC ran during the call). Rethrows.
   * @example
   * const user = await analyzer.analyzeOperation('loadUser', () => db.load(id));
   */
  analyzeOperation<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** Records one completed call that is not an executor call (executor calls are read from the executor). */
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

/** What one operation record held when the analyzer last read it. */
interface Reading {
  calls: number;
  failures: number;
  errors: Float64Array;
  cached: number;
  sumMs: number;
  /** A copy of the record's latency histogram; undefined while that was empty. */
  latency: Hdr | undefined;
}

/** One executor the analyzer reads. */
interface Watched {
  attachment: TelemetryAttachment;
  /** The last readings, indexed as the telemetry's records. */
  readings: Reading[];
}

/**
 * How often the number of calls in flight is looked at between slice boundaries (a sum of
 * one field per operation of each executor). A pull of the histograms costs more and happens
 * once per slice.
 */
const LEVEL_SAMPLE_MS = 100;

/** The default clock: ms since the epoch, never stepped (see `AnalyzerOptions.now`). */
const monotonicEpochMs = (): number => performance.timeOrigin + performance.now();

/** The "earlier" side of a difference while a record's histogram was still empty. Never written. */
const EMPTY_LATENCY: Hdr = createHdr(3);

function readingOf(record: OperationRecord): Reading {
  const latency = record.latency;
  return {
    calls: record.calls,
    failures: record.failures,
    errors: record.errors.slice(),
    cached: record.cached,
    sumMs: record.sumMs,
    latency: latency && latency.totalCount > 0 ? latency.clone() : undefined,
  };
}

/** Makes `reading` hold what `record` holds now (a new baseline), reusing its memory. */
function rebase(reading: Reading, record: OperationRecord): void {
  reading.calls = record.calls;
  reading.failures = record.failures;
  reading.errors.set(record.errors);
  reading.cached = record.cached;
  reading.sumMs = record.sumMs;
  const latency = record.latency;
  if (!latency || latency.totalCount === 0) reading.latency?.reset();
  else if (reading.latency) reading.latency.copyFrom(latency);
  else reading.latency = latency.clone();
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

const ZERO_STATS = ZERO_EXECUTOR_STATS;

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

const inFlightProbes = new WeakMap<Analyzer, () => void>();

/**
 * @internal For `runWorkload`: a function that makes `analyzer` look at the calls in flight
 * now. The analyzer looks on its timer, but a backend that settles calls in microtasks (the
 * memory backend) never has one in flight when a timer runs; the workload knows moments when
 * its calls are. Undefined for an analyzer made elsewhere.
 */
export function inFlightProbe(analyzer: Analyzer): (() => void) | undefined {
  return inFlightProbes.get(analyzer);
}

/**
 * Creates a live analyzer reading the telemetry of the executors it watches (see
 * `AnalyzerOptions.executor`), from now on.
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
  const now = options.now ?? monotonicEpochMs;
  const executorInstance = typeof options.executor === 'object' ? options.executor : undefined;
  const executorName =
    typeof options.executor === 'string' ? options.executor : executorInstance?.name;
  const packages = packageVersions();

  let startMs = now();
  let operations = new Map<string, OperationTotals>();
  let slices: Slice[] = [];
  const slicePool: Hdr[] = [];
  /** Calls of `analyzeOperation` in flight (executor calls are read from their records). */
  let ownInFlight = 0;
  let maxInFlight = 0;
  let busyMs = 0;
  const watched = new Map<ExecutorTelemetry, Watched>();

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

  const sliceAt = (index: number): Slice => {
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

  /** The slice a sample completed at `at` belongs to: [start, end). */
  const sliceIndexAt = (at: number): number => Math.max(0, Math.floor((at - startMs) / sliceMs));
  /**
   * The slice of what was recorded up to `at`: (start, end], so that a read exactly at a
   * boundary (as a snapshot's end may be) goes to the slice that ends there.
   */
  const readIndexAt = (at: number): number => Math.max(0, Math.ceil((at - startMs) / sliceMs) - 1);

  const totalsOf = (name: string): OperationTotals => {
    let totals = operations.get(name);
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
      operations.set(name, totals);
    }
    return totals;
  };

  const entryOf = (slice: Slice, name: string): SliceEntry => {
    let entry = slice.operations.get(name);
    if (!entry) {
      entry = {
        histogram: takeSliceHistogram(),
        count: 0,
        errors: 0,
        errorsByType: emptyErrorsByType(),
      };
      slice.operations.set(name, entry);
    }
    return entry;
  };

  const record = (sample: OperationSample): void => {
    const us = toMicros(sample.durationMs);
    const totals = totalsOf(sample.operation);
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

    const entry = entryOf(sliceAt(sliceIndexAt(now())), sample.operation);
    entry.histogram.record(us);
    entry.count += 1;
    if (sample.errorType) {
      entry.errors += 1;
      entry.errorsByType[sample.errorType] += 1;
    }
  };

  /**
   * Adds what one executor recorded since the last reading to the totals and to slice
   * `index`, and returns its calls in flight now.
   */
  const pullFrom = (telemetry: ExecutorTelemetry, readings: Reading[], index: number): number => {
    let level = 0;
    const records = telemetry.records;
    for (let i = 0; i < records.length; i += 1) {
      const current = records[i]!;
      const seen = readings[i]!;
      level += current.inFlight;
      const calls = current.calls - seen.calls;
      // Nothing settled: leave the rest (a near-cache hit marked by a call still in flight)
      // for the next read.
      if (calls <= 0) continue;
      const name = current.operation;
      const totals = totalsOf(name);
      const entry = entryOf(sliceAt(index), name);
      totals.count += calls;
      entry.count += calls;
      const failures = current.failures - seen.failures;
      if (failures > 0) {
        totals.errors += failures;
        entry.errors += failures;
        for (let k = 0; k < RECORDED_ERROR_TYPES.length; k += 1) {
          const n = current.errors[k]! - seen.errors[k]!;
          if (n <= 0) continue;
          const type = RECORDED_ERROR_TYPES[k]!;
          totals.errorsByType[type] += n;
          entry.errorsByType[type] += n;
        }
        seen.errors.set(current.errors);
      }
      totals.cached += current.cached - seen.cached;
      busyMs += Math.max(0, current.sumMs - seen.sumMs);
      const latency = current.latency;
      if (latency && latency.totalCount !== (seen.latency?.totalCount ?? 0)) {
        const earlier = seen.latency ?? EMPTY_LATENCY;
        totals.histogram.addDifference(latency, earlier);
        entry.histogram.addDifference(latency, earlier);
        if (seen.latency) seen.latency.copyFrom(latency);
        else seen.latency = latency.clone();
      }
      seen.calls = current.calls;
      seen.failures = current.failures;
      seen.cached = current.cached;
      seen.sumMs = current.sumMs;
    }
    return level;
  };

  const levelOf = (telemetry: ExecutorTelemetry): number => {
    let level = 0;
    for (const current of telemetry.records) level += current.inFlight;
    return level;
  };

  /**
   * Looks at every watched executor: the calls in flight (for `maxInFlight`) and, given a
   * slice index, what was recorded since the last pull, into that slice.
   */
  const look = (index: number | undefined): void => {
    let level = ownInFlight;
    for (const [telemetry, { readings }] of watched) {
      level += index === undefined ? levelOf(telemetry) : pullFrom(telemetry, readings, index);
    }
    if (level > maxInFlight) maxInFlight = level;
  };

  let closed = false;

  const watch = (telemetry: ExecutorTelemetry): void => {
    if (closed || watched.has(telemetry)) return;
    // Attach first: it creates the latency histograms the baseline copies.
    const attachment = telemetry.attach({ latency: true });
    watched.set(telemetry, { attachment, readings: telemetry.records.map(readingOf) });
  };

  const unwatch = (telemetry: ExecutorTelemetry, index: number): void => {
    const entry = watched.get(telemetry);
    if (!entry) return;
    pullFrom(telemetry, entry.readings, index);
    entry.attachment.release();
    watched.delete(telemetry);
  };

  const wanted = (name: string): boolean => executorName === undefined || name === executorName;

  if (executorInstance) watch(executorInstance.telemetry);
  else for (const telemetry of liveTelemetry()) if (wanted(telemetry.executor)) watch(telemetry);

  const onCreate = (raw: unknown): void => {
    const message = raw as ExecutorLifecycleMessage;
    // Given an instance, the analyzer watches that one executor only.
    if (executorInstance || !wanted(message.executor)) return;
    // A message from an executor-core without telemetry carries none.
    if ((message.telemetry as ExecutorTelemetry | undefined) !== undefined) {
      watch(message.telemetry);
    }
    if (executorName === undefined) return;
    // An executor created after the analyzer: its counters start at zero.
    description = message.description;
    readStats = message.stats;
    statsBaseline = { ...ZERO_STATS };
  };
  const onClose = (raw: unknown): void => {
    const message = raw as ExecutorLifecycleMessage;
    unwatch(message.telemetry, readIndexAt(now()));
  };
  diagnostics.subscribe(CHANNELS.create, onCreate);
  diagnostics.subscribe(CHANNELS.close, onClose);

  // The slice timer pulls the histograms once per slice, a little after each boundary, and
  // looks at the calls in flight every LEVEL_SAMPLE_MS in between. Unref'd: it never keeps
  // a process alive.
  let timer: NodeJS.Timeout | undefined;
  let timerSlice = 0;
  const schedule = (): void => {
    const elapsed = Math.max(0, now() - startMs);
    timerSlice = Math.floor(elapsed / sliceMs);
    const toBoundary = Math.ceil((timerSlice + 1) * sliceMs - elapsed);
    timer = setTimeout(onTimer, Math.max(1, Math.min(LEVEL_SAMPLE_MS, toBoundary)));
    timer.unref();
  };
  const onTimer = (): void => {
    // Past a boundary, what was recorded since the last pull belongs to the slice that ended.
    look(sliceIndexAt(now()) > timerSlice ? timerSlice : undefined);
    schedule();
  };
  schedule();

  const snapshot = (snapshotOptions: SnapshotOptions = {}): AnalysisSnapshot => {
    const endMs = now();
    look(readIndexAt(endMs));
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
      // New baselines: the span starts now, calls already recorded stay out of it.
      let level = ownInFlight;
      for (const [telemetry, { readings }] of watched) {
        telemetry.records.forEach((current, i) => rebase(readings[i]!, current));
        level += levelOf(telemetry);
      }
      maxInFlight = level;
      busyMs = 0;
      statsBaseline = readStats?.();
      processMonitor?.reset();
      redisFigures = undefined;
      redisBaseline = readRedis();
      if (!closed) {
        clearTimeout(timer);
        schedule();
      }
    },
    close(): void {
      if (closed) return;
      const index = readIndexAt(now());
      for (const telemetry of [...watched.keys()]) unwatch(telemetry, index);
      closed = true;
      clearTimeout(timer);
      diagnostics.unsubscribe(CHANNELS.create, onCreate);
      diagnostics.unsubscribe(CHANNELS.close, onClose);
      processMonitor?.stop();
    },
    async analyzeOperation<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
      const heapBefore = process.memoryUsage().heapUsed;
      const startedAt = performance.now();
      ownInFlight += 1;
      if (ownInFlight > maxInFlight) maxInFlight = ownInFlight;
      let errorType: ErrorType | undefined;
      try {
        return await fn();
      } catch (error) {
        errorType = errorTypeOfUnknown(error);
        throw error;
      } finally {
        const durationMs = performance.now() - startedAt;
        ownInFlight = Math.max(0, ownInFlight - 1);
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
  inFlightProbes.set(analyzer, () => look(undefined));
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
