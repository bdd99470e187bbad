/**
 * Errors of the optimizer. Errors of the executor (`SR_*` from executor-core) pass through
 * unchanged, or are reported with their code when an action fails.
 */

/** Stable error codes of the optimizer. Never reuse a retired code. */
export const OptimizerErrorCodes = {
  /** An option of `evaluate`, `applyActions` or `tune` is invalid. */
  INVALID_OPTION: 'SR_OPTIMIZER_INVALID_OPTION',
} as const;

/** An optimizer error code. */
export type OptimizerErrorCode = (typeof OptimizerErrorCodes)[keyof typeof OptimizerErrorCodes];

/** Base class of optimizer errors. `code` is stable; the message is for people. */
export class OptimizerError extends Error {
  readonly code: OptimizerErrorCode;
  constructor(code: OptimizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option is invalid; `option` names it. */
export class InvalidOptionError extends OptimizerError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(OptimizerErrorCodes.INVALID_OPTION, `${option}: ${message}`);
    this.option = option;
  }
}
