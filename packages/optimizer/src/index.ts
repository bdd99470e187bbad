/**
 * @stateful-route/optimizer: findings backed by measured evidence (rules over an analyzer
 * snapshot, the executor's configuration and counters, and Redis figures), the safe actions
 * that fix them on a running executor, and trials that pick the fastest configuration.
 */
export { evaluate, RULES } from './evaluate.js';
export { applyActions } from './apply.js';
export type { AppliedAction, ApplyOptions } from './apply.js';
export {
  tune,
  configure,
  defaultCandidates,
  labelOf,
  roundOrder,
  DEFAULT_TUNE_ROUNDS,
  MAX_TUNE_ROUNDS,
} from './tune.js';
export type {
  TuneConfiguration,
  TuneOptions,
  TuneResult,
  TuneProgress,
  Trial,
  ExecutorFactory,
} from './tune.js';
export {
  pairedLead,
  pText,
  rank,
  simplerFirst,
  spreadOf,
  TIE_BREAK_RULE,
  TIE_MARGIN,
} from './ranking.js';
export type { LeadTest, Ranking, RankedConfiguration, Spread } from './ranking.js';
export { setupOf } from './setup.js';
export type { ExecutorSetup } from './setup.js';
export { diagnose, readRedisFigures } from './diagnose.js';
export type { DiagnoseOptions, RedisFiguresSource } from './diagnose.js';
export { ACTION_IDS } from './finding.js';
export type {
  Finding,
  FindingAction,
  ActionId,
  Evidence,
  Severity,
  EvaluateInput,
  RedisFigures,
  Rule,
  RuleContext,
} from './finding.js';
export { DEFAULT_THRESHOLDS } from './thresholds.js';
export type { Thresholds } from './thresholds.js';
export {
  OptimizerErrorCodes,
  OptimizerErrorDescriptions,
  OptimizerError,
  OptimizerOptionError,
} from './errors.js';
export type { OptimizerErrorCode } from './errors.js';
