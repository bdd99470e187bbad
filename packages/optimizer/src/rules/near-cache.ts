/**
 * The hottest reads (`getServiceState`, `getWorkloadState`) read far more often than their
 * keys are written: a near cache invalidated by Redis answers most of them without a round
 * trip.
 */
import { ACTION_IDS, type Finding, type RuleContext } from '../finding.js';
import { countOf, round, windowOf } from '../figures.js';

/**
 * State reads per state write from which a near cache pays: each write invalidates at most
 * one entry, so at 4 reads per write at least 3 of 4 reads are hits.
 */
export const READ_WRITE_RATIO_MIN = 4;
/** State reads per second from which a near cache is worth its extra connection. */
export const STATE_READS_PER_SECOND_MIN = 50;

/** Fires when state reads dominate state writes and no near cache is on. */
export function nearCacheRule({ snapshot, description, thresholds }: RuleContext): Finding[] {
  if (description.backend !== 'redis' || description.nearCache?.enabled === true) return [];
  const reads = countOf(snapshot, 'getServiceState') + countOf(snapshot, 'getWorkloadState');
  const writes = countOf(snapshot, 'setServiceState') + countOf(snapshot, 'setWorkloadState');
  const seconds = snapshot.provenance.durationSeconds;
  const readsPerSecond = seconds > 0 ? reads / seconds : 0;
  const ratio = reads / Math.max(1, writes);
  if (ratio < thresholds.readWriteRatioMin || readsPerSecond < thresholds.stateReadsPerSecondMin) {
    return [];
  }
  const window = windowOf(snapshot);
  const cluster = description.topology === 'cluster';
  return [
    {
      id: 'near-cache',
      severity: 'warning',
      title: 'Service and workload state are read far more often than written',
      evidence: [
        {
          metric: 'state reads per state write',
          observed: round(ratio, 1),
          threshold: thresholds.readWriteRatioMin,
          unit: 'ratio',
          window,
          operation: 'getServiceState',
        },
        {
          metric: 'state reads per second',
          observed: round(readsPerSecond, 1),
          threshold: thresholds.stateReadsPerSecondMin,
          unit: 'calls/s',
          window,
          operation: 'getServiceState',
        },
      ],
      recommendation: cluster
        ? 'Keep service state on a standalone Redis (or a replica-free primary) to use the near cache, which is not available on Redis Cluster.'
        : 'Enable the near cache so that repeated state reads are answered in-process and Redis invalidates the entries when the state changes.',
      ...(cluster
        ? {}
        : {
            action: {
              id: ACTION_IDS.enableNearCache,
              description: 'enableNearCache() (CLIENT TRACKING with a redirect connection)',
              safe: true,
            },
          }),
    },
  ];
}
