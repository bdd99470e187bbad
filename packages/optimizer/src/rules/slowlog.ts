/** Our scripts in the Redis slow log: they touch two keys and should take microseconds. */
import type { Finding, RuleContext } from '../finding.js';

/** Slow log entries of EVAL/EVALSHA for a warning. */
export const SLOW_SCRIPT_ENTRIES_MIN = 1;

const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro']);

/** Fires when the slow log holds entries of script calls. */
export function slowlogRule({ redis, thresholds }: RuleContext): Finding[] {
  const entries = (redis?.slowlog ?? []).filter((e) =>
    SCRIPT_COMMANDS.has(e.command.toLowerCase()),
  );
  if (entries.length < thresholds.slowScriptEntriesMin || entries.length === 0) return [];
  const slowest = Math.max(...entries.map((e) => e.durationUs));
  return [
    {
      id: 'slow-scripts',
      severity: 'warning',
      title: 'Script calls appear in the Redis slow log',
      evidence: [
        {
          metric: 'slow log entries of EVAL/EVALSHA',
          observed: entries.length,
          threshold: thresholds.slowScriptEntriesMin,
          unit: 'entries',
          window: 'SLOWLOG GET',
        },
        {
          metric: 'slowest script call',
          observed: slowest,
          threshold: 0,
          unit: 'us',
          window: 'SLOWLOG GET',
        },
      ],
      recommendation:
        'Check Redis CPU and latency (LATENCY DOCTOR) and the size of the link index hashes, since a two-key script should never be slow on its own.',
    },
  ];
}
