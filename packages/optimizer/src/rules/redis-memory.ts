/** Redis near `maxmemory`: with `noeviction` writes fail (SR_REDIS_OOM), otherwise keys go. */
import type { Finding, RuleContext } from '../finding.js';
import { round } from '../figures.js';

/** used_memory / maxmemory for a warning. */
export const MEMORY_RATIO_WARNING = 0.8;
/** used_memory / maxmemory for a critical finding. */
export const MEMORY_RATIO_CRITICAL = 0.95;

/** Fires when Redis uses most of its `maxmemory` (never without a limit). */
export function redisMemoryRule({ snapshot, redis, thresholds }: RuleContext): Finding[] {
  const used = redis?.usedMemory ?? snapshot.redis?.memory.used;
  const max = redis?.maxMemory ?? snapshot.redis?.memory.max;
  if (used === undefined || !max) return [];
  const ratio = used / max;
  if (ratio < thresholds.memoryRatioWarning) return [];
  const critical = ratio >= thresholds.memoryRatioCritical;
  return [
    {
      id: 'redis-memory',
      severity: critical ? 'critical' : 'warning',
      title: 'Redis memory is close to maxmemory',
      evidence: [
        {
          metric: 'used_memory / maxmemory',
          observed: round(ratio),
          threshold: critical ? thresholds.memoryRatioCritical : thresholds.memoryRatioWarning,
          unit: 'ratio',
        },
        { metric: 'used_memory', observed: used, threshold: max, unit: 'bytes' },
      ],
      recommendation:
        'Raise maxmemory or remove stale links (temporary links expire; permanent ones stay until removed) before writes start failing with OOM.',
    },
  ];
}
