/**
 * Many single-uid `getLinkedPod` calls in a short window: when one request needs the pods
 * of many uids of a service, `batchGetLinkedPod` answers them in one MGET.
 */
import type { Finding, RuleContext } from '../finding.js';
import { round } from '../figures.js';

/** Single-uid getLinkedPod calls per second, in the busiest timeline slice. */
export const SINGLE_READS_PER_SECOND_MIN = 200;

/** Fires on a peak rate of single-uid link reads above the threshold. */
export function batchReadsRule({ snapshot, thresholds }: RuleContext): Finding[] {
  const op = snapshot.operations.getLinkedPod;
  if (!op) return [];
  const timeline = op.timeline;
  const slice = timeline.length > 1 ? Math.max(1e-3, timeline[1]!.t - timeline[0]!.t) : undefined;
  let peak: number;
  let window: string;
  if (slice !== undefined) {
    peak = Math.max(...timeline.map((s) => s.count)) / slice;
    window = `busiest ${round(slice, 2)} s slice`;
  } else {
    peak = op.throughput;
    window = `${round(snapshot.provenance.durationSeconds, 1)} s`;
  }
  if (peak < thresholds.singleReadsPerSecondMin) return [];
  const batched = snapshot.operations.batchGetLinkedPod?.count ?? 0;
  return [
    {
      id: 'batch-reads',
      severity: 'info',
      title: 'Many single-uid link reads, one round trip each',
      evidence: [
        {
          metric: 'getLinkedPod calls per second',
          observed: round(peak, 1),
          threshold: thresholds.singleReadsPerSecondMin,
          unit: 'calls/s',
          window,
          operation: 'getLinkedPod',
        },
        {
          metric: 'batchGetLinkedPod calls',
          observed: batched,
          threshold: 0,
          unit: 'calls',
          operation: 'batchGetLinkedPod',
        },
      ],
      recommendation:
        'Where one request needs the pods of several uids of one service, call batchGetLinkedPod once (one MGET per 500 uids) instead of getLinkedPod per uid.',
    },
  ];
}
