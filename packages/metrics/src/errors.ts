/**
 * Errors thrown by `instrumentExecutor()`. Each carries a stable string `code` (documented in
 * the package README and docs/errors.md); branch on `code` or the class, never on the message.
 * Nothing here is thrown on the hot path: only when options are checked and metrics registered.
 */

/** Stable error codes of @stateful-route/metrics. Never reuse a retired code. */
export const MetricsErrorCodes = {
  /** An option of `instrumentExecutor()` has the wrong type or is out of range. */
  OPTIONS: 'SR_METRICS_OPTIONS',
  /** A metric name is already on the registry and cannot be shared with this instrumentation. */
  CONFLICT: 'SR_METRICS_CONFLICT',
} as const;

export type MetricsErrorCode = (typeof MetricsErrorCodes)[keyof typeof MetricsErrorCodes];

/** Base class of the errors of @stateful-route/metrics. */
export class MetricsError extends Error {
  readonly code: MetricsErrorCode;
  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An option was rejected; `option` names it (`buckets`, `prefix`, ...).
 * @example
 * try { instrumentExecutor({ registry, buckets: [1, 0.5] }) }
 * catch (e) { if (e instanceof MetricsOptionsError) console.log(e.option) } // 'buckets'
 */
export class MetricsOptionsError extends MetricsError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(MetricsErrorCodes.OPTIONS, `${option}: ${message}`);
    this.option = option;
  }
}

/**
 * A metric of this instrumentation is already registered and cannot be shared: either it is
 * not ours, or sharing it would produce duplicate series. `metric` is the full metric name.
 * Two instrumentations share a registry with `executorLabel: true` plus distinct `executor`
 * names, or with distinct prefixes.
 */
export class MetricsConflictError extends MetricsError {
  readonly metric: string;
  constructor(metric: string, message: string) {
    super(MetricsErrorCodes.CONFLICT, `${metric}: ${message}`);
    this.metric = metric;
  }
}
