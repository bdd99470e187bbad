/** Reconnects: each one fails or delays the calls in flight and drops the near cache. */
import type { Finding, RuleContext } from '../finding.js';
import { executorStats, windowOf } from '../figures.js';

/** Reconnects in the span for a warning. */
export const RECONNECTS_WARNING = 1;
/** Reconnects in the span for a critical finding. */
export const RECONNECTS_CRITICAL = 10;

/** Fires when the executor's connections reconnected. */
export function reconnectsRule(context: RuleContext): Finding[] {
  const { thresholds, snapshot } = context;
  const reconnects = executorStats(context)?.reconnects ?? 0;
  if (reconnects < thresholds.reconnectsWarning) return [];
  const critical = reconnects >= thresholds.reconnectsCritical;
  return [
    {
      id: 'reconnects',
      severity: critical ? 'critical' : 'warning',
      title: 'Connections to Redis were lost and re-established',
      evidence: [
        {
          metric: 'reconnect attempts',
          observed: reconnects,
          threshold: critical ? thresholds.reconnectsCritical : thresholds.reconnectsWarning,
          unit: 'reconnects',
          window: snapshot.executorStats ? windowOf(snapshot) : 'since the executor started',
        },
      ],
      recommendation:
        'Find why connections drop (Redis restarts, timeout or maxclients settings, a proxy or load balancer closing idle connections) before tuning anything else.',
    },
  ];
}
