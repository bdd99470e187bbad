/**
 * Figures derived from a snapshot that several rules and `tune()` need. Pure functions of
 * plain data.
 */
import type { ExecutorStats } from '@stateful-route/executor-core';
import type { AnalysisSnapshot, OperationSnapshot } from '@stateful-route/analyzer';
import type { EvaluateInput } from './finding.js';

/** Commands the executor sends to Redis (for the time spent inside Redis). */
const EXECUTOR_COMMANDS = ['evalsha', 'eval', 'hgetall', 'hset', 'get', 'set', 'mget', 'client'];

/** The executor counters over the snapshot's span when known, else the cumulative ones. */
export function executorStats(input: EvaluateInput): ExecutorStats | undefined {
  return input.snapshot.executorStats ?? input.stats;
}

/** `12.3 s` style span of the snapshot. */
export function windowOf(snapshot: AnalysisSnapshot): string {
  return `${round(snapshot.provenance.durationSeconds, 1)} s`;
}

/** Rounds for display in evidence (evidence is read by people). */
export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Completed calls of an operation (0 when it was not called). */
export function countOf(snapshot: AnalysisSnapshot, operation: string): number {
  return snapshot.operations[operation]?.count ?? 0;
}

/**
 * Mean number of calls in flight: measured by a live analyzer, or estimated with Little's
 * law (throughput x mean latency) from an exposition snapshot.
 */
export function meanInFlight(snapshot: AnalysisSnapshot): number {
  if (snapshot.concurrency) return snapshot.concurrency.meanInFlight;
  let sum = 0;
  for (const op of Object.values(snapshot.operations))
    sum += (op.throughput * op.latency.mean) / 1000;
  return sum;
}

/**
 * Share of the client-observed time of Redis-bound calls spent outside Redis (network, client
 * queues, event loop): 1 - (time inside Redis) / (time seen by callers). Near-cache hits are
 * left out (they make no round trip). Undefined without Redis `INFO commandstats` deltas.
 */
export function roundTripShare(snapshot: AnalysisSnapshot): number | undefined {
  const commandstats = snapshot.redis?.commandstats;
  if (!commandstats) return undefined;
  let clientMs = 0;
  for (const op of Object.values(snapshot.operations)) {
    // Cached calls take microseconds; count only the calls that went to Redis.
    clientMs += (op.count - op.cached) * op.latency.mean;
  }
  if (clientMs <= 0) return undefined;
  let serverMs = 0;
  for (const name of EXECUTOR_COMMANDS) serverMs += (commandstats[name]?.usec ?? 0) / 1000;
  return Math.max(0, Math.min(1, 1 - serverMs / clientMs));
}

/** Operations that went to Redis at least `minCalls` times (not answered from the near cache). */
export function redisBound(
  snapshot: AnalysisSnapshot,
  minCalls: number,
): [string, OperationSnapshot][] {
  return Object.entries(snapshot.operations).filter(([, op]) => op.count - op.cached >= minCalls);
}

/** p99 of every call of the snapshot together, in ms, from the merged histograms. */
export function overallP99(snapshot: AnalysisSnapshot): number {
  return overallPercentile(snapshot, 0.99);
}

/** A percentile of every call together (upper bucket bound, ms). */
export function overallPercentile(snapshot: AnalysisSnapshot, quantile: number): number {
  const buckets = new Map<number, number>();
  let total = 0;
  for (const op of Object.values(snapshot.operations)) {
    const { bounds, counts } = op.histogram;
    for (let i = 0; i < bounds.length; i++) {
      buckets.set(bounds[i]!, (buckets.get(bounds[i]!) ?? 0) + counts[i]!);
      total += counts[i]!;
    }
  }
  if (total === 0) {
    return Math.max(0, ...Object.values(snapshot.operations).map((op) => op.latency.p99));
  }
  const rank = Math.ceil(total * quantile);
  let seen = 0;
  for (const bound of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(bound)!;
    if (seen >= rank) return bound / 1000;
  }
  return 0;
}
