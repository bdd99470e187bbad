/**
 * The one recording path of every executor call, shared by every consumer (metrics, the
 * analyzer, anything else). While at least one consumer is attached, each call costs one
 * pair of clock reads and a few writes into preallocated per-operation state: counts, errors
 * by type, near-cache hits, calls in flight, the sum of durations, the counts of each
 * registered bucket layout (Prometheus `le` semantics, exact per bucket) and, when a consumer
 * asked for it, an HDR histogram of latencies in µs (3 significant digits). Consumers read
 * that state when they need it (a scrape, a snapshot) instead of doing work on every call.
 * With no consumer attached a call pays one boolean check.
 *
 * The diagnostics channels stay for third parties (tracers): they are published only when
 * someone subscribes to them, as before, and the recorded figures come from the same clock
 * pair then.
 */
import type { ErrorType } from '../errors.js';
import { errorTypeOf } from '../errors.js';
import { ALL_OPERATIONS, type OperationName } from '../executor.js';
import { HdrHistogram } from './hdr.js';

/** The `error_type` values in the order of `OperationRecord.errors`. */
export const ERROR_TYPES: readonly ErrorType[] = Object.freeze([
  'validation',
  'connection',
  'timeout',
  'script',
  'cluster',
  'other',
  // Last, so that the older types keep their positions (metrics and the analyzer read the
  // error counts by position, and may meet an older executor-core copy).
  'capacity',
]);

const ERROR_INDEX: Readonly<Record<ErrorType, number>> = {
  validation: 0,
  connection: 1,
  timeout: 2,
  script: 3,
  cluster: 4,
  other: 5,
  capacity: 6,
};

/** The highest latency the histograms track, in µs (one hour); slower calls are clamped. */
export const MAX_RECORDED_US = 3_600_000_000;

/**
 * Receives the mark of a call answered by the near cache: the traced `OperationMessage`
 * (`cached = true`) or the recorded `OperationRecord` (`cached += 1`).
 */
export interface CacheHitSink {
  markCached(): void;
}

/** What the executor recorded for one operation since it was created. */
export class OperationRecord implements CacheHitSink {
  /** Calls settled (succeeded or failed). */
  calls = 0;
  /** Calls that failed. */
  failures = 0;
  /** Failures by error type, in the order of `ERROR_TYPES`. */
  readonly errors = new Float64Array(ERROR_TYPES.length);
  /** Calls answered by the near cache. */
  cached = 0;
  /** Calls started and not settled yet (a level, not a count). */
  inFlight = 0;
  /** Sum of the durations of settled calls, ms. */
  sumMs = 0;
  /**
   * Latencies of settled calls in µs (3 significant digits), while a consumer asked for them
   * (`attach({ latency: true })`); undefined before.
   */
  latency: HdrHistogram | undefined;

  constructor(readonly operation: OperationName) {}

  /** @internal */
  markCached(): void {
    this.cached += 1;
  }
}

/**
 * The bucket of `value` among increasing upper `bounds` with Prometheus' `le` semantics: the
 * first bound >= `value`, or `bounds.length` (the `+Inf` bucket). A binary search.
 */
export function bucketIndex(bounds: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (value <= bounds[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * Per-bucket (not cumulative) counts of settled calls for one set of upper bounds, per
 * operation; the last count of each is the `+Inf` bucket. Exact: each call's duration is
 * compared with the bounds (`duration <= bound`, in seconds) when it settles.
 */
export class BucketLayout {
  /** The upper bounds in seconds, increasing. */
  readonly bounds: Float64Array;
  /** Counts per operation, indexed as `ALL_OPERATIONS`. */
  readonly counts: readonly Float64Array[];
  /** @internal */
  readonly key: string;
  /** @internal */
  users = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = Float64Array.from(bounds);
    this.key = bounds.join(',');
    this.counts = ALL_OPERATIONS.map(() => new Float64Array(bounds.length + 1));
  }

  /** The bucket of a duration in seconds: the first bound >= it, or `bounds.length` (+Inf). */
  indexOf(seconds: number): number {
    return bucketIndex(this.bounds, seconds);
  }
}

/** What a consumer needs recorded. */
export interface TelemetryNeeds {
  /** An HDR histogram of latencies per operation (`OperationRecord.latency`). */
  latency?: boolean;
  /** Bucket upper bounds in seconds, increasing: counts per bucket (`BucketLayout`). */
  buckets?: readonly number[];
}

/** A consumer's hold on an executor's telemetry; `release()` when done. */
export interface TelemetryAttachment {
  /** The layout of the `buckets` asked for, or undefined. */
  readonly layout: BucketLayout | undefined;
  /** Stops asking for the recording (the figures so far stay). Idempotent. */
  release(): void;
}

const INDEX_OF: Readonly<Record<OperationName, number>> = Object.fromEntries(
  ALL_OPERATIONS.map((name, i) => [name, i]),
) as Record<OperationName, number>;

/** The index of an operation in `ALL_OPERATIONS` (and in `ExecutorTelemetry.records`). */
export function operationIndex(operation: OperationName): number {
  return INDEX_OF[operation];
}

/** Why a claim was released (the `cause` label of the metrics). */
export const CLAIM_RELEASE_CAUSES = [
  'release',
  'expired',
  'swept',
  'reconciled',
  'lost_race',
] as const;
export type ClaimReleaseCause = (typeof CLAIM_RELEASE_CAUSES)[number];
/** How an allocation ended (the `result` label of the metrics). */
export const ALLOCATION_RESULTS = ['created', 'existing', 'no_capacity'] as const;
export type AllocationResult = (typeof ALLOCATION_RESULTS)[number];

/**
 * What placement did, counted always (a few integer increments per placement call, whether
 * or not a consumer is attached), monotonic since the executor was created. Metrics read it
 * at scrape time. No per-pod, per-uid or per-service counts: the label sets are fixed.
 */
export class PlacementCounters {
  /** `allocate` calls by how they ended. */
  readonly allocations: Record<AllocationResult, number> = {
    created: 0,
    existing: 0,
    no_capacity: 0,
  };
  /** Claims released, by cause. */
  readonly claimsReleased: Record<ClaimReleaseCause, number> = {
    release: 0,
    expired: 0,
    swept: 0,
    reconciled: 0,
    lost_race: 0,
  };
  /** `sweepDeadPods` runs completed. */
  sweeps = 0;
  /** Links of dead pods deleted by sweeps. */
  linksSwept = 0;
}

/** The recording of one executor; read it through `executor.telemetry`. */
export class ExecutorTelemetry {
  /** Placement's counters (always counted). */
  readonly placement = new PlacementCounters();
  /** The records, indexed as `ALL_OPERATIONS`. */
  readonly records: readonly OperationRecord[] = ALL_OPERATIONS.map(
    (op) => new OperationRecord(op),
  );
  /** Whether calls are recorded now (at least one consumer attached). */
  recording = false;
  #users = 0;
  #latencyUsers = 0;
  #layouts: BucketLayout[] = [];

  constructor(
    /** The executor's name. */
    readonly executor: string,
  ) {}

  /** The record of one operation. */
  record(operation: OperationName): OperationRecord {
    return this.records[INDEX_OF[operation]]!;
  }

  /**
   * Starts recording what `needs` asks for, from now on. Figures recorded before stay; a
   * consumer that wants only its own span takes a baseline (`HdrHistogram.clone()`, counts).
   */
  attach(needs: TelemetryNeeds = {}): TelemetryAttachment {
    let layout: BucketLayout | undefined;
    if (needs.buckets !== undefined) {
      const key = needs.buckets.join(',');
      layout = this.#layouts.find((l) => l.key === key);
      if (!layout) {
        layout = new BucketLayout(needs.buckets);
        this.#layouts = [...this.#layouts, layout];
      }
      layout.users += 1;
    }
    if (needs.latency) {
      this.#latencyUsers += 1;
      for (const record of this.records) record.latency ??= new HdrHistogram(3);
    }
    this.#users += 1;
    this.recording = true;
    let released = false;
    return {
      layout,
      release: () => {
        if (released) return;
        released = true;
        if (layout && --layout.users === 0) {
          this.#layouts = this.#layouts.filter((l) => l !== layout);
        }
        if (needs.latency) this.#latencyUsers -= 1;
        this.#users -= 1;
        this.recording = this.#users > 0;
      },
    };
  }

  /** @internal A call settled: `durationMs` after its start, failed with `error` if any. */
  settle(record: OperationRecord, durationMs: number, failed: boolean, error: unknown): void {
    record.inFlight -= 1;
    record.calls += 1;
    record.sumMs += durationMs;
    if (failed) {
      record.failures += 1;
      record.errors[ERROR_INDEX[errorTypeOf(error)]]! += 1;
    }
    if (this.#latencyUsers > 0) {
      const us = durationMs <= 0 ? 0 : Math.round(durationMs * 1000);
      record.latency!.record(us > MAX_RECORDED_US ? MAX_RECORDED_US : us);
    }
    const layouts = this.#layouts;
    if (layouts.length > 0) {
      const seconds = durationMs / 1000;
      const index = INDEX_OF[record.operation];
      for (let i = 0; i < layouts.length; i++) {
        const layout = layouts[i]!;
        layout.counts[index]![layout.indexOf(seconds)]! += 1;
      }
    }
  }
}

/**
 * The key of the process-wide set of open executors' telemetry on `globalThis`. A symbol of
 * the global registry, so that every copy of executor-core loaded in the process (and a
 * consumer that does not load executor-core at run time, like the metrics package) shares
 * one set, as they share the diagnostics channels by name.
 */
export const LIVE_TELEMETRY_KEY = Symbol.for('stateful-route.executor-telemetry');

function live(): Set<ExecutorTelemetry> {
  const holder = globalThis as { [LIVE_TELEMETRY_KEY]?: Set<ExecutorTelemetry> };
  return (holder[LIVE_TELEMETRY_KEY] ??= new Set());
}

/** @internal Executors register their telemetry while open. */
export function registerTelemetry(telemetry: ExecutorTelemetry): void {
  live().add(telemetry);
}

/** @internal */
export function unregisterTelemetry(telemetry: ExecutorTelemetry): void {
  live().delete(telemetry);
}

/**
 * The telemetry of every open executor of this process, for consumers that watch all
 * executors; `CHANNELS.create` announces those created later.
 */
export function liveTelemetry(): readonly ExecutorTelemetry[] {
  return [...live()];
}
