/**
 * What the optimizer reports: findings backed by measured evidence, each with a one-sentence
 * recommendation and, when it has one, an action `applyActions()` can carry out. Plain data:
 * the reporter renders exactly this shape and the server returns it as JSON.
 */
import type { ExecutorDescription, ExecutorStats } from '@stateful-route/executor-core';
import type { AnalysisSnapshot } from '@stateful-route/analyzer';
import type { Thresholds } from './thresholds.js';

/** How urgent a finding is. */
export type Severity = 'info' | 'warning' | 'critical';

/** One measured figure that made a rule fire, next to the threshold it crossed. */
export interface Evidence {
  /** What was measured, e.g. `script cache hit ratio`. */
  metric: string;
  observed: number;
  threshold: number;
  /** Unit of `observed` and `threshold`: `ratio`, `ms`, `calls/s`, `bytes`, ... */
  unit?: string;
  /** The span the figure covers, e.g. `60 s` or `peak 1 s slice`. */
  window?: string;
  /** The executor operation the figure is about, when it is about one. */
  operation?: string;
}

/** Ids of the actions `applyActions()` knows. */
export const ACTION_IDS = {
  /** `loadScripts()` then `setScriptTransport('evalsha')`. */
  preloadScripts: 'preload-scripts',
  /** `setAutoPipelining(true)` and, with a connection factory, `setConnectionCount(2)`. */
  enableAutoPipelining: 'enable-autopipelining',
  /** `setAutoPipelining(false)`. */
  disableAutoPipelining: 'disable-autopipelining',
  /** `enableNearCache()`. */
  enableNearCache: 'enable-near-cache',
} as const;

/** An action id. */
export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** Something the optimizer can change on a running executor. */
export interface FindingAction {
  id: ActionId;
  description: string;
  /** Safe actions change only client-side configuration and can be undone at run time. */
  safe: boolean;
}

/** One finding of a rule. */
export interface Finding {
  /** Stable id of the finding (the rule, plus the error type for error-rate findings). */
  id: string;
  severity: Severity;
  title: string;
  evidence: Evidence[];
  /** One sentence. */
  recommendation: string;
  action?: FindingAction;
}

/** Redis figures not in the snapshot (from `INFO memory` and `SLOWLOG GET`). */
export interface RedisFigures {
  /** `used_memory` in bytes. */
  usedMemory?: number;
  /** `maxmemory` in bytes (0: no limit). */
  maxMemory?: number;
  /** Slow log entries (`SLOWLOG GET`): id, duration in microseconds, command name. */
  slowlog?: { id: number; durationUs: number; command: string }[];
}

/** What `evaluate()` looks at. */
export interface EvaluateInput {
  snapshot: AnalysisSnapshot;
  description: ExecutorDescription;
  /** The executor's counters (the snapshot's `executorStats` deltas are preferred). */
  stats?: ExecutorStats;
  redis?: RedisFigures;
  /** Overrides of the default thresholds. */
  thresholds?: Partial<Thresholds>;
}

/** What a rule is given: the input with every threshold filled in. */
export interface RuleContext extends EvaluateInput {
  thresholds: Thresholds;
}

/** A rule: zero or more findings from the evidence. */
export type Rule = (context: RuleContext) => Finding[];
