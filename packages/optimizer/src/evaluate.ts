/** Runs every rule over the evidence and orders the findings, most severe first. */
import type { EvaluateInput, Finding, Rule, RuleContext, Severity } from './finding.js';
import { OptimizerOptionError } from './errors.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.js';
import { autoPipeliningRule } from './rules/auto-pipelining.js';
import { batchReadsRule } from './rules/batch-reads.js';
import { errorRateRule } from './rules/error-rate.js';
import { eventLoopRule } from './rules/event-loop.js';
import { nearCacheRule } from './rules/near-cache.js';
import { reconnectsRule } from './rules/reconnects.js';
import { redisMemoryRule } from './rules/redis-memory.js';
import { scriptTransportRule } from './rules/script-transport.js';
import { slowlogRule } from './rules/slowlog.js';

/** Every rule, in the order their findings are listed within one severity. */
export const RULES: readonly Rule[] = [
  errorRateRule,
  reconnectsRule,
  redisMemoryRule,
  eventLoopRule,
  scriptTransportRule,
  nearCacheRule,
  autoPipeliningRule,
  slowlogRule,
  batchReadsRule,
];

const RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/**
 * Evaluates the rules over an analyzer snapshot, the executor's description and counters,
 * and Redis figures. Pure: it changes nothing.
 * @example
 * const findings = evaluate({ snapshot: await analyzer.capture(), description: executor.describe() });
 * @throws SR_OPTIMIZER_INVALID_OPTION when a threshold is not a finite number
 */
export function evaluate(input: EvaluateInput): Finding[] {
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const [name, value] of Object.entries(input.thresholds ?? {})) {
    if (!(name in DEFAULT_THRESHOLDS)) {
      throw new OptimizerOptionError(`thresholds.${name}`, 'is not a known threshold');
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new OptimizerOptionError(`thresholds.${name}`, 'must be a finite number');
    }
    thresholds[name as keyof Thresholds] = value;
  }
  const context: RuleContext = { ...input, thresholds };
  const findings = RULES.flatMap((rule) => rule(context));
  // Stable sort: within a severity, the order of RULES.
  return findings.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}
