/** High error rate, one finding per error type (they have different causes and fixes). */
import { ERROR_TYPES } from '@stateful-route/analyzer';
import type { ErrorType } from '@stateful-route/executor-core';
import type { Finding, RuleContext } from '../finding.js';
import { round, windowOf } from '../figures.js';

/** Errors of one type per call for a warning (the SLO of the issue: 0.1%). */
export const ERROR_RATE_WARNING = 0.001;
/** Errors of one type per call for a critical finding. */
export const ERROR_RATE_CRITICAL = 0.05;
/** Calls needed before an error rate is judged. */
export const ERROR_RATE_CALLS_MIN = 100;

const ADVICE: Record<ErrorType, string> = {
  connection:
    'Check that Redis is reachable and not restarting, and that the client retries (ioredis retryStrategy) while it reconnects.',
  timeout:
    'Look for slow commands on Redis (SLOWLOG) or an overloaded server, and raise commandTimeout only after that.',
  script:
    'Check the keys the scripts touch for values of the wrong type (WRONGTYPE) written by another client.',
  cluster: 'Check the cluster state (CLUSTER INFO) and that multi-key calls share a hash tag.',
  validation:
    'Fix the callers: they pass ids or states that break the input rules of the contract.',
  capacity:
    'allocate finds no pod with room: register more pods or raise their capacity, undrain pods, or sweep dead pods and reconcile expired links (docs/placement.md).',
  other:
    'Read the error codes (errorCode on the operation channel) to find which Redis reply fails.',
};

/** Fires per error type whose rate is at or above the warning threshold. */
export function errorRateRule({ snapshot, thresholds }: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const calls = snapshot.totals.count;
  if (calls < thresholds.errorRateCallsMin) return findings;
  for (const type of ERROR_TYPES) {
    let errors = 0;
    let worst: { operation: string; errors: number } | undefined;
    for (const [operation, op] of Object.entries(snapshot.operations)) {
      const n = op.errorsByType[type] ?? 0;
      errors += n;
      if (n > 0 && (!worst || n > worst.errors)) worst = { operation, errors: n };
    }
    const rate = errors / calls;
    if (rate < thresholds.errorRateWarning) continue;
    const critical = rate >= thresholds.errorRateCritical;
    findings.push({
      id: `error-rate-${type}`,
      severity: critical ? 'critical' : 'warning',
      title: `${type} errors in ${round(rate * 100, 2)}% of calls`,
      evidence: [
        {
          metric: `${type} errors per call`,
          observed: round(rate, 5),
          threshold: critical ? thresholds.errorRateCritical : thresholds.errorRateWarning,
          unit: 'ratio',
          window: windowOf(snapshot),
          ...(worst ? { operation: worst.operation } : {}),
        },
      ],
      recommendation: ADVICE[type],
    });
  }
  return findings;
}
