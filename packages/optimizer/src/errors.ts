/**
 * Errors of the optimizer. Each has a stable string `code` (listed in docs/errors.md,
 * generated from `OptimizerErrorCodes` and `OptimizerErrorDescriptions`) and the brand of every
 * stateful-route error (`isStatefulRouteError()` of executor-core). Errors of the executor
 * pass through unchanged, or are reported with their code when an action fails.
 */
import { ERROR_BRAND, type CodeDescriptions } from '@stateful-route/executor-core';

/**
 * Stable error codes of the optimizer; what each means is in `OptimizerErrorDescriptions`.
 * Never reuse a retired code.
 */
export const OptimizerErrorCodes = {
  INVALID_OPTION: 'SR_OPTIMIZER_INVALID_OPTION',
} as const;

/** An optimizer error code. */
export type OptimizerErrorCode = (typeof OptimizerErrorCodes)[keyof typeof OptimizerErrorCodes];

/** What each optimizer code means, and the classes that carry it (docs/errors.md). */
export const OptimizerErrorDescriptions: CodeDescriptions<OptimizerErrorCode> = {
  SR_OPTIMIZER_INVALID_OPTION: {
    classes: ['OptimizerOptionError'],
    meaning:
      'an option of `evaluate()`, `applyActions()` or `tune()` is invalid: an unknown or non-finite threshold, an unknown action id in `only`, a bad `trialMs`, `warmupMs`, `rounds`, `alpha` or `p99GuardRatio`; `option` names it. Nothing was changed.',
  },
};

/** Base class of optimizer errors. `code` is stable; the message is for people. */
export class OptimizerError extends Error {
  readonly code: OptimizerErrorCode;
  constructor(code: OptimizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
  /** The brand of every stateful-route error. */
  get [ERROR_BRAND](): true {
    return true;
  }
}

/**
 * An option of `evaluate`, `applyActions` or `tune` is invalid; `option` names it. (The
 * analyzer's is `InvalidOptionError`, code `SR_ANALYZER_INVALID_OPTION`.)
 * @example
 * try { evaluate({ ...input, thresholds: { nope: 1 } }) }
 * catch (e) { if (e instanceof OptimizerOptionError) console.log(e.option) } // 'thresholds.nope'
 */
export class OptimizerOptionError extends OptimizerError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(OptimizerErrorCodes.INVALID_OPTION, `${option}: ${message}`);
    this.option = option;
  }
}
