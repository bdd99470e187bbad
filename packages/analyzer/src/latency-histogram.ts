/**
 * Latency recording in microseconds on an HDR histogram, and the conversions to the
 * snapshot's summary and compact forms.
 */
import { HdrHistogram } from '@stateful-route/executor-core';
import type { CompactHistogram, LatencySummary } from './snapshot.js';

/** One hour in microseconds: anything slower is clamped (an operation that slow is an outage). */
export const MAX_TRACKABLE_US = 3_600_000_000;

/** Buckets per decade of the compact histogram's logarithmic scale. */
export const COMPACT_BUCKETS_PER_DECADE = 50;

/** The histogram type used everywhere. */
export type Hdr = HdrHistogram;

/**
 * A new HDR histogram from 1 µs to one hour. Three significant digits (0.1% error) for the
 * per-operation totals, two for the per-slice histograms of the timeline (1% error, an
 * eighth of the memory).
 */
export function createHdr(significantDigits: 2 | 3 = 3): Hdr {
  return new HdrHistogram(significantDigits);
}

/** Milliseconds (fractional) -> integer microseconds clamped to the trackable range. */
export function toMicros(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) return 0;
  const us = Math.round(ms * 1000);
  return us > MAX_TRACKABLE_US ? MAX_TRACKABLE_US : us;
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The latency summary of an HDR histogram, in ms rounded to the microsecond. */
export function summarize(histogram: Hdr): LatencySummary {
  if (histogram.totalCount === 0) {
    return {
      unit: 'ms',
      estimated: false,
      min: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
    };
  }
  const at = (p: number): number => round3(histogram.valueAtPercentile(p) / 1000);
  return {
    unit: 'ms',
    estimated: false,
    min: round3(histogram.min / 1000),
    mean: round3(histogram.mean / 1000),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: round3(histogram.max / 1000),
  };
}

/**
 * The upper bound (µs) of the logarithmic compact bucket holding `us`: the smallest
 * `10^(k/50)` at or above it, rounded to 4 significant digits.
 */
export function compactBound(us: number): number {
  if (us <= 1) return 1;
  const k = Math.ceil(Math.log10(us) * COMPACT_BUCKETS_PER_DECADE - 1e-9);
  return Number((10 ** (k / COMPACT_BUCKETS_PER_DECADE)).toPrecision(4));
}

/** Re-buckets an HDR histogram on the fixed logarithmic scale shared by live snapshots. */
export function toCompact(histogram: Hdr): CompactHistogram {
  const byBound = new Map<number, number>();
  // Each HDR bucket goes whole into the compact bucket holding its highest value.
  histogram.forEachBucket((highest, count) => {
    const bound = compactBound(highest);
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  });
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return {
    unit: 'us',
    scheme: 'log',
    bounds,
    counts: bounds.map((b) => byBound.get(b) ?? 0),
    overflow: 0,
  };
}
