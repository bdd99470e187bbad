/**
 * Scripts sent as full text: the `eval` transport (as the original Go port did), or a script
 * cache that keeps missing (NOSCRIPT reloads after restarts or SCRIPT FLUSH).
 */
import { ACTION_IDS, type Evidence, type Finding, type RuleContext } from '../finding.js';
import { executorStats, round, windowOf } from '../figures.js';

/** Below this share of script calls served by SHA, preload the scripts. */
export const SCRIPT_CACHE_HIT_RATIO_MIN = 0.8;
/** Script calls needed before the hit ratio is judged (a few reloads at startup are normal). */
export const SCRIPT_CALLS_MIN = 50;

/** Fires on the `eval` transport, or on a script cache hit ratio below the threshold. */
export function scriptTransportRule({
  snapshot,
  description,
  thresholds,
  ...input
}: RuleContext): Finding[] {
  const stats = executorStats({ snapshot, description, ...input });
  const bySha = stats?.scriptCallsBySha ?? 0;
  const byText = stats?.scriptCallsByText ?? 0;
  const calls = bySha + byText;
  const ratio = calls > 0 ? bySha / calls : 1;
  const evalTransport = description.scriptTransport === 'eval';
  const missing = calls >= thresholds.scriptCallsMin && ratio < thresholds.scriptCacheHitRatioMin;
  if (!evalTransport && !missing) return [];
  const window = windowOf(snapshot);
  const evidence: Evidence[] = [];
  if (calls > 0) {
    evidence.push({
      metric: 'script cache hit ratio (calls by SHA / all script calls)',
      observed: round(ratio),
      threshold: thresholds.scriptCacheHitRatioMin,
      unit: 'ratio',
      window,
    });
  }
  if (evalTransport) {
    evidence.push({
      metric: 'script transport is EVAL (full script text on every call; 1 = yes)',
      observed: 1,
      threshold: 0,
    });
  }
  const evalCalls = snapshot.redis?.commandstats.eval?.calls;
  if (evalCalls !== undefined && evalCalls > 0) {
    evidence.push({
      metric: 'EVAL commands run by Redis',
      observed: evalCalls,
      threshold: 0,
      unit: 'calls',
      window,
    });
  }
  return [
    {
      id: 'script-transport',
      severity: 'warning',
      title: evalTransport
        ? 'Lua scripts are sent as full text with EVAL on every call'
        : 'Lua scripts keep missing the Redis script cache',
      evidence,
      recommendation:
        'Load the scripts once at startup and call them by SHA (EVALSHA), so each call sends a 40-byte hash instead of the script and Redis skips the compile-cache lookup.',
      action: {
        id: ACTION_IDS.preloadScripts,
        description: "loadScripts() on every connection, then setScriptTransport('evalsha')",
        safe: true,
      },
    },
  ];
}
