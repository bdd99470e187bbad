/**
 * The operation figures the metrics expose, read from what the executors record
 * (executor-core's `ExecutorTelemetry`) at scrape time: nothing here runs per call. Each
 * watched executor is read as its figures now minus its figures when this instrumentation
 * started watching it (so counters start at zero, and `registry.resetMetrics()` starts them
 * again); an executor that closed leaves its last figures behind in `retired`. Placement's
 * counters (placement-stats.ts) are read the same way.
 */
import {
  ERROR_TYPES,
  type ExecutorTelemetry,
  type OperationName,
  type PlacementCounters,
  type TelemetryAttachment,
} from '@stateful-route/executor-core';
import { PlacementTotals } from './placement-stats.js';

/** Figures of one operation: counts since a point, or a point's copy. */
export class OperationTotals {
  calls = 0;
  failures = 0;
  sumMs = 0;
  /** Failures by error type, indexed as executor-core's `ERROR_TYPES` (the `error_type` values). */
  readonly errors = new Float64Array(ERROR_TYPES.length);
  /** Per-bucket (not cumulative) counts; the last one is `+Inf`. */
  readonly buckets: Float64Array;
  constructor(bucketCount: number) {
    this.buckets = new Float64Array(bucketCount + 1);
  }

  clear(): void {
    this.calls = 0;
    this.failures = 0;
    this.sumMs = 0;
    this.errors.fill(0);
    this.buckets.fill(0);
  }
}

/** One watched executor: its telemetry, the hold on it, and the figures when watched from. */
interface Watched {
  readonly telemetry: ExecutorTelemetry;
  readonly attachment: TelemetryAttachment;
  readonly baseline: OperationTotals[];
  /** Placement's counters when watched from (or last reset). */
  readonly placementBaseline: PlacementTotals;
}

/** Reads the recorded figures of a set of executors (one `executor` label value, or all). */
export class OperationFigures {
  readonly #bounds: readonly number[];
  readonly #watched = new Map<ExecutorTelemetry, Watched>();
  /** Figures left by executors that closed, per operation name. */
  readonly #retired = new Map<string, OperationTotals>();
  /** Placement counts left by executors that closed. */
  #retiredPlacement = new PlacementTotals();
  /** Operations seen so far: their series stay once they appeared. */
  readonly #seen = new Set<string>();

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  /** Starts reading `telemetry` (it records from now on, with our buckets). */
  watch(telemetry: ExecutorTelemetry): void {
    if (this.#watched.has(telemetry)) return;
    const attachment = telemetry.attach({ buckets: this.#bounds });
    const baseline = telemetry.records.map(() => new OperationTotals(this.#bounds.length));
    const placementBaseline = new PlacementTotals();
    placementBaseline.read(placementOf(telemetry));
    const watched: Watched = { telemetry, attachment, baseline, placementBaseline };
    this.#copy(watched, baseline);
    this.#watched.set(telemetry, watched);
  }

  /** The executor closed: keeps what it recorded, lets it go. */
  retire(telemetry: ExecutorTelemetry): void {
    const watched = this.#watched.get(telemetry);
    if (!watched) return;
    this.#watched.delete(telemetry);
    const now = telemetry.records.map(() => new OperationTotals(this.#bounds.length));
    this.#copy(watched, now);
    telemetry.records.forEach((record, i) => {
      const delta = now[i]!;
      subtract(delta, watched.baseline[i]!);
      if (delta.calls === 0) return;
      let retired = this.#retired.get(record.operation);
      if (!retired) {
        retired = new OperationTotals(this.#bounds.length);
        this.#retired.set(record.operation, retired);
      }
      add(retired, delta);
    });
    const placement = new PlacementTotals();
    placement.read(placementOf(telemetry));
    placement.add(watched.placementBaseline, -1);
    this.#retiredPlacement.add(placement);
    watched.attachment.release();
  }

  /** Stops reading every executor. */
  release(): void {
    for (const watched of this.#watched.values()) watched.attachment.release();
    this.#watched.clear();
  }

  /** Counters start again from zero (`registry.resetMetrics()`). */
  reset(): void {
    this.collect(); // the operations seen so far keep their (zeroed) series
    for (const watched of this.#watched.values()) this.#copy(watched, watched.baseline);
    this.#retired.clear();
  }

  /** Placement counters start again from zero (`registry.resetMetrics()`). */
  resetPlacement(): void {
    for (const watched of this.#watched.values()) {
      watched.placementBaseline.read(placementOf(watched.telemetry));
    }
    this.#retiredPlacement = new PlacementTotals();
  }

  /** Placement's counts, summed over the watched executors and the retired ones. */
  placement(): PlacementTotals {
    const totals = new PlacementTotals();
    totals.add(this.#retiredPlacement);
    const now = new PlacementTotals();
    for (const watched of this.#watched.values()) {
      now.read(placementOf(watched.telemetry));
      totals.add(now);
      totals.add(watched.placementBaseline, -1);
    }
    return totals;
  }

  /**
   * The figures of every operation seen, summed over the watched executors and the retired
   * ones, with the calls in flight now.
   */
  collect(): { operation: OperationName; totals: OperationTotals; inFlight: number }[] {
    const byOperation = new Map<string, { totals: OperationTotals; inFlight: number }>();
    const entry = (operation: string) => {
      let found = byOperation.get(operation);
      if (!found) {
        found = { totals: new OperationTotals(this.#bounds.length), inFlight: 0 };
        byOperation.set(operation, found);
      }
      return found;
    };
    for (const [operation, retired] of this.#retired) add(entry(operation).totals, retired);
    const scratch = new OperationTotals(this.#bounds.length);
    for (const watched of this.#watched.values()) {
      const records = watched.telemetry.records;
      const layout = watched.attachment.layout!;
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        if (record.calls === watched.baseline[i]!.calls && record.inFlight <= 0) continue;
        readRecord(scratch, record, layout.counts[i]!);
        subtract(scratch, watched.baseline[i]!);
        const target = entry(record.operation);
        add(target.totals, scratch);
        target.inFlight += Math.max(0, record.inFlight);
      }
    }
    for (const operation of byOperation.keys()) this.#seen.add(operation);
    for (const operation of this.#seen) entry(operation);
    return [...byOperation]
      .map(([operation, { totals, inFlight }]) => ({
        operation: operation as OperationName,
        totals,
        inFlight,
      }))
      .sort((a, b) => (a.operation < b.operation ? -1 : a.operation > b.operation ? 1 : 0));
  }

  #copy(watched: Watched, into: OperationTotals[]): void {
    const layout = watched.attachment.layout!;
    watched.telemetry.records.forEach((record, i) => {
      readRecord(into[i]!, record, layout.counts[i]!);
    });
  }
}

/** An application may load another executor-core copy, one older than placement. */
function placementOf(telemetry: ExecutorTelemetry): PlacementCounters | undefined {
  return (telemetry as Partial<ExecutorTelemetry>).placement;
}

function readRecord(
  into: OperationTotals,
  record: ExecutorTelemetry['records'][number],
  buckets: Float64Array,
): void {
  into.calls = record.calls;
  into.failures = record.failures;
  into.sumMs = record.sumMs;
  into.errors.set(record.errors);
  into.buckets.set(buckets);
}

function subtract(into: OperationTotals, other: OperationTotals): void {
  into.calls -= other.calls;
  into.failures -= other.failures;
  into.sumMs -= other.sumMs;
  for (let i = 0; i < into.errors.length; i++) into.errors[i]! -= other.errors[i]!;
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! -= other.buckets[i]!;
}

function add(into: OperationTotals, other: OperationTotals): void {
  into.calls += other.calls;
  into.failures += other.failures;
  into.sumMs += other.sumMs;
  for (let i = 0; i < into.errors.length; i++) into.errors[i]! += other.errors[i]!;
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += other.buckets[i]!;
}
