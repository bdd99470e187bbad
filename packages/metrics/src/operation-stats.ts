/**
 * The hot-path side of the metrics: plain numbers per operation, updated by the channel
 * subscriber on every call and read by the prom-client collectors only at scrape time.
 * A labelled prom-client `observe()` + `inc()` hashes its labels on every call; here the
 * per-call work is a map lookup, a bucket search and a few increments.
 */
import type { ErrorType } from '@stateful-route/executor-core';

/** The `error_type` label values, in the order of `OperationSlot.errors`. */
export const ERROR_TYPES: readonly ErrorType[] = [
  'validation',
  'connection',
  'timeout',
  'script',
  'cluster',
  'other',
];

/** Index of an error type in `OperationSlot.errors`; unknown types count as `other`. */
export function errorTypeIndex(type: string): number {
  switch (type) {
    case 'validation':
      return 0;
    case 'connection':
      return 1;
    case 'timeout':
      return 2;
    case 'script':
      return 3;
    case 'cluster':
      return 4;
    default:
      return 5;
  }
}

/** Counters of one operation (of one executor, or of all when not labelled by executor). */
export class OperationSlot {
  success = 0;
  failure = 0;
  /** Calls started and not yet settled. */
  inFlight = 0;
  /** Sum of durations in seconds. */
  sum = 0;
  /** Per-bucket (not cumulative) counts; the last one is `+Inf`. Cumulated at scrape. */
  readonly buckets: Float64Array;
  /** Failures by error type, indexed as `ERROR_TYPES`. */
  readonly errors = new Float64Array(ERROR_TYPES.length);
  constructor(
    readonly operation: string,
    bucketCount: number,
  ) {
    this.buckets = new Float64Array(bucketCount + 1);
  }
}

/**
 * Index of the first bucket whose upper bound is >= `seconds` (Prometheus `le` semantics),
 * or `bounds.length` for the `+Inf` bucket. Binary search: a handful of comparisons whatever
 * the number of buckets.
 */
export function bucketIndex(bounds: Float64Array, seconds: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (seconds <= bounds[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The operation slots of one group, created on first use. */
export class OperationTable {
  readonly slots = new Map<string, OperationSlot>();
  constructor(private readonly bucketCount: number) {}

  slot(operation: string): OperationSlot {
    let slot = this.slots.get(operation);
    if (slot === undefined) {
      slot = new OperationSlot(operation, this.bucketCount);
      this.slots.set(operation, slot);
    }
    return slot;
  }

  reset(): void {
    for (const slot of this.slots.values()) {
      slot.success = 0;
      slot.failure = 0;
      slot.sum = 0;
      slot.buckets.fill(0);
      slot.errors.fill(0);
      // inFlight is a level, not a count since creation: resetting it would make it wrong.
    }
  }
}
