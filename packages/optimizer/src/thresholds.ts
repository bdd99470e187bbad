/**
 * Every threshold of every rule, by name, with its default. Each rule file declares its own
 * defaults as named constants; this is the one place they are gathered so `evaluate()` can
 * take overrides.
 */
import * as autoPipelining from './rules/auto-pipelining.js';
import * as batchReads from './rules/batch-reads.js';
import * as errorRate from './rules/error-rate.js';
import * as eventLoop from './rules/event-loop.js';
import * as nearCache from './rules/near-cache.js';
import * as reconnects from './rules/reconnects.js';
import * as redisMemory from './rules/redis-memory.js';
import * as scriptTransport from './rules/script-transport.js';
import * as slowlog from './rules/slowlog.js';

/** The thresholds of the rules. Ratios are 0..1, latencies in ms, rates per second. */
export interface Thresholds {
  /** Below this share of script calls served by SHA, preload the scripts. */
  scriptCacheHitRatioMin: number;
  /** Script calls needed before the hit ratio is judged. */
  scriptCallsMin: number;
  /** Mean calls in flight from which autopipelining can share round trips. */
  inFlightMin: number;
  /** Share of client latency spent outside Redis from which round trips dominate. */
  roundTripShareMin: number;
  /** Event-loop delay p99 (ms) from which the process is CPU-bound (no autopipelining advice). */
  eventLoopBusyMs: number;
  /** Mean calls in flight up to which autopipelining only adds waiting. */
  lowInFlightMax: number;
  /** p99 / p50 of a Redis-bound operation from which p99 counts as inflated. */
  p99InflationMin: number;
  /** Calls of an operation needed before its percentiles are judged. */
  percentileCallsMin: number;
  /** State reads per state write from which a near cache pays (4: 3 of 4 reads hit). */
  readWriteRatioMin: number;
  /** State reads per second from which a near cache is worth a connection. */
  stateReadsPerSecondMin: number;
  /** Single-uid getLinkedPod calls per second (peak slice) from which batching pays. */
  singleReadsPerSecondMin: number;
  /** Event-loop delay p99 (ms) for a warning, and for a critical finding. */
  eventLoopDelayP99WarningMs: number;
  eventLoopDelayP99CriticalMs: number;
  /** Error rate of one error type for a warning, and for a critical finding. */
  errorRateWarning: number;
  errorRateCritical: number;
  /** Calls needed before an error rate is judged. */
  errorRateCallsMin: number;
  /** Reconnects in the span for a warning, and for a critical finding. */
  reconnectsWarning: number;
  reconnectsCritical: number;
  /** used_memory / maxmemory for a warning, and for a critical finding. */
  memoryRatioWarning: number;
  memoryRatioCritical: number;
  /** Slow log entries of our scripts for a warning. */
  slowScriptEntriesMin: number;
}

/** The default thresholds. */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  scriptCacheHitRatioMin: scriptTransport.SCRIPT_CACHE_HIT_RATIO_MIN,
  scriptCallsMin: scriptTransport.SCRIPT_CALLS_MIN,
  inFlightMin: autoPipelining.IN_FLIGHT_MIN,
  roundTripShareMin: autoPipelining.ROUND_TRIP_SHARE_MIN,
  eventLoopBusyMs: autoPipelining.EVENT_LOOP_BUSY_MS,
  lowInFlightMax: autoPipelining.LOW_IN_FLIGHT_MAX,
  p99InflationMin: autoPipelining.P99_INFLATION_MIN,
  percentileCallsMin: autoPipelining.PERCENTILE_CALLS_MIN,
  readWriteRatioMin: nearCache.READ_WRITE_RATIO_MIN,
  stateReadsPerSecondMin: nearCache.STATE_READS_PER_SECOND_MIN,
  singleReadsPerSecondMin: batchReads.SINGLE_READS_PER_SECOND_MIN,
  eventLoopDelayP99WarningMs: eventLoop.EVENT_LOOP_DELAY_P99_WARNING_MS,
  eventLoopDelayP99CriticalMs: eventLoop.EVENT_LOOP_DELAY_P99_CRITICAL_MS,
  errorRateWarning: errorRate.ERROR_RATE_WARNING,
  errorRateCritical: errorRate.ERROR_RATE_CRITICAL,
  errorRateCallsMin: errorRate.ERROR_RATE_CALLS_MIN,
  reconnectsWarning: reconnects.RECONNECTS_WARNING,
  reconnectsCritical: reconnects.RECONNECTS_CRITICAL,
  memoryRatioWarning: redisMemory.MEMORY_RATIO_WARNING,
  memoryRatioCritical: redisMemory.MEMORY_RATIO_CRITICAL,
  slowScriptEntriesMin: slowlog.SLOW_SCRIPT_ENTRIES_MIN,
});
