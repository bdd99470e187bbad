/**
 * Auto-pipelining both ways: on when many calls wait on round trips, off when it only makes
 * the few calls in flight wait for each other (measured here: one autopipelined connection
 * doubled the p99 of script calls without raising throughput).
 */
import { ACTION_IDS, type Evidence, type Finding, type RuleContext } from '../finding.js';
import { meanInFlight, redisBound, round, roundTripShare, windowOf } from '../figures.js';

/** Mean calls in flight from which autopipelining can share round trips. */
export const IN_FLIGHT_MIN = 8;
/** Share of client latency spent outside Redis from which round trips dominate. */
export const ROUND_TRIP_SHARE_MIN = 0.7;
/**
 * Event-loop delay p99 (ms) above which the process itself is the bottleneck (CPU-bound):
 * calls wait in the client, not on round trips, and batching them cannot help.
 */
export const EVENT_LOOP_BUSY_MS = 20;
/** Mean calls in flight up to which autopipelining only adds waiting. */
export const LOW_IN_FLIGHT_MAX = 4;
/** p99 / p50 of a Redis-bound operation from which p99 counts as inflated. */
export const P99_INFLATION_MIN = 4;
/** Calls of an operation needed before its percentiles are judged. */
export const PERCENTILE_CALLS_MIN = 100;

/** Fires to turn autopipelining on (busy, round-trip bound) or off (idle, p99 inflated). */
export function autoPipeliningRule({ snapshot, description, thresholds }: RuleContext): Finding[] {
  if (description.backend !== 'redis' || description.autoPipelining === null) return [];
  const window = windowOf(snapshot);
  const inFlight = meanInFlight(snapshot);
  const share = roundTripShare(snapshot);
  if (!description.autoPipelining) {
    if (inFlight < thresholds.inFlightMin) return [];
    if (share !== undefined && share < thresholds.roundTripShareMin) return [];
    const loopDelay = snapshot.process?.eventLoopDelay.p99;
    if (loopDelay !== undefined && loopDelay >= thresholds.eventLoopBusyMs) return [];
    const evidence: Evidence[] = [
      {
        metric: 'mean calls in flight',
        observed: round(inFlight, 1),
        threshold: thresholds.inFlightMin,
        unit: 'calls',
        window,
      },
    ];
    if (share !== undefined) {
      evidence.push({
        metric: 'share of client latency spent outside Redis (round trips, queues)',
        observed: round(share),
        threshold: thresholds.roundTripShareMin,
        unit: 'ratio',
        window,
      });
    }
    if (loopDelay !== undefined) {
      evidence.push({
        metric: 'event-loop delay p99 (below: the wait is on Redis, not on this process)',
        observed: round(loopDelay, 2),
        threshold: thresholds.eventLoopBusyMs,
        unit: 'ms',
        window,
      });
    }
    const twoConnections = description.connections < 2;
    return [
      {
        id: 'enable-autopipelining',
        // Without Redis figures the round-trip share is unknown: say so by a lower severity.
        severity: share === undefined ? 'info' : 'warning',
        title: 'Many calls in flight wait on separate round trips',
        evidence,
        recommendation: twoConnections
          ? 'Turn on ioredis auto-pipelining and spread calls over two connections, so that concurrent calls share round trips (one autopipelined connection alone did not speed up script calls here).'
          : 'Turn on ioredis auto-pipelining so that concurrent calls on each connection share round trips.',
        action: {
          id: ACTION_IDS.enableAutoPipelining,
          description: twoConnections
            ? 'setAutoPipelining(true), and setConnectionCount(2) when the executor has a connectionFactory'
            : 'setAutoPipelining(true)',
          safe: true,
        },
      },
    ];
  }
  if (inFlight > thresholds.lowInFlightMax) return [];
  let worst: { operation: string; ratio: number; p99: number } | undefined;
  for (const [operation, op] of redisBound(snapshot, thresholds.percentileCallsMin)) {
    if (op.latency.p50 <= 0) continue;
    const ratio = op.latency.p99 / op.latency.p50;
    if (!worst || ratio > worst.ratio) worst = { operation, ratio, p99: op.latency.p99 };
  }
  if (!worst || worst.ratio < thresholds.p99InflationMin) return [];
  return [
    {
      id: 'disable-autopipelining',
      severity: 'info',
      title: 'Auto-pipelining inflates p99 at low concurrency',
      evidence: [
        {
          metric: 'mean calls in flight',
          observed: round(inFlight, 2),
          threshold: thresholds.lowInFlightMax,
          unit: 'calls',
          window,
        },
        {
          metric: 'p99 / p50 latency',
          observed: round(worst.ratio, 2),
          threshold: thresholds.p99InflationMin,
          unit: 'ratio',
          window,
          operation: worst.operation,
        },
      ],
      recommendation:
        'Turn auto-pipelining off: with so few calls in flight there is nothing to batch, and calls only wait for the pipeline in front of them.',
      action: {
        id: ACTION_IDS.disableAutoPipelining,
        description: 'setAutoPipelining(false)',
        safe: true,
      },
    },
  ];
}
