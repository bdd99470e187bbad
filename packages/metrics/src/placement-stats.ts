/**
 * The placement figures the metrics expose (allocations by result, claims released by
 * cause, sweeps, links swept), copied from executor-core's `PlacementCounters` at scrape
 * time and kept as differences from a baseline like the operation figures
 * (operation-stats.ts). Fixed label sets: nothing here is per pod, uid or service.
 */
import {
  ALLOCATION_RESULTS,
  CLAIM_RELEASE_CAUSES,
  type AllocationResult,
  type ClaimReleaseCause,
  type PlacementCounters,
} from '@stateful-route/executor-core';

/** Placement counts since a point, or a point's copy. */
export class PlacementTotals {
  readonly allocations: Record<AllocationResult, number> = zeros(ALLOCATION_RESULTS);
  readonly claimsReleased: Record<ClaimReleaseCause, number> = zeros(CLAIM_RELEASE_CAUSES);
  sweeps = 0;
  linksSwept = 0;

  /**
   * Copies an executor's counters (monotonic since its creation). `undefined`: the telemetry
   * of an executor-core copy older than placement, read as zeros.
   */
  read(counters: PlacementCounters | undefined): void {
    for (const result of ALLOCATION_RESULTS) {
      this.allocations[result] = counters?.allocations[result] ?? 0;
    }
    for (const cause of CLAIM_RELEASE_CAUSES) {
      this.claimsReleased[cause] = counters?.claimsReleased[cause] ?? 0;
    }
    this.sweeps = counters?.sweeps ?? 0;
    this.linksSwept = counters?.linksSwept ?? 0;
  }

  /** Adds `other` times `sign` (1 to add, -1 to subtract). */
  add(other: PlacementTotals, sign: 1 | -1 = 1): void {
    for (const result of ALLOCATION_RESULTS) {
      this.allocations[result] += sign * other.allocations[result];
    }
    for (const cause of CLAIM_RELEASE_CAUSES) {
      this.claimsReleased[cause] += sign * other.claimsReleased[cause];
    }
    this.sweeps += sign * other.sweeps;
    this.linksSwept += sign * other.linksSwept;
  }
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
