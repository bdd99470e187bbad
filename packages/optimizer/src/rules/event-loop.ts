/** A blocked event loop delays every call, Redis or not. */
import type { Finding, RuleContext } from '../finding.js';
import { round, windowOf } from '../figures.js';

/** Event-loop delay p99 (ms) for a warning. */
export const EVENT_LOOP_DELAY_P99_WARNING_MS = 50;
/** Event-loop delay p99 (ms) for a critical finding. */
export const EVENT_LOOP_DELAY_P99_CRITICAL_MS = 200;

/** Fires on a high event-loop delay p99. */
export function eventLoopRule({ snapshot, thresholds }: RuleContext): Finding[] {
  const delay = snapshot.process?.eventLoopDelay;
  if (!delay || delay.p99 < thresholds.eventLoopDelayP99WarningMs) return [];
  const critical = delay.p99 >= thresholds.eventLoopDelayP99CriticalMs;
  return [
    {
      id: 'event-loop-delay',
      severity: critical ? 'critical' : 'warning',
      title: 'The event loop is blocked for long stretches',
      evidence: [
        {
          metric: 'event-loop delay p99',
          observed: round(delay.p99, 2),
          threshold: critical
            ? thresholds.eventLoopDelayP99CriticalMs
            : thresholds.eventLoopDelayP99WarningMs,
          unit: 'ms',
          window: windowOf(snapshot),
        },
      ],
      recommendation:
        'Profile the process (node --cpu-prof) and move synchronous work off the request path: every call waits while the loop is blocked, however fast Redis answers.',
    },
  ];
}
