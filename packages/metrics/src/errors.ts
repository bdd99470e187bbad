/**
 * Errors thrown by `instrumentExecutor()`. Each carries a stable string `code` (listed in
 * docs/errors.md, generated from `MetricsErrorCodes` and `MetricsErrorDescriptions`) and the
 * brand of every stateful-route error (`isStatefulRouteError()` of executor-core); branch on
 * `code` or the class, never on the message. Nothing here is thrown on the hot path: only when
 * options are checked and metrics registered.
 */
import type { CodeDescriptions } from '@stateful-route/executor-core';

// executor-core's `ERROR_BRAND`, set without loading executor-core: a registered symbol is
// the same symbol in every package.
const ERROR_BRAND: unique symbol = Symbol.for('stateful-route.error');

/**
 * Stable error codes of @stateful-route/metrics; what each means is in
 * `MetricsErrorDescriptions`. Never reuse a retired code.
 */
export const MetricsErrorCodes = {
  OPTIONS: 'SR_METRICS_OPTIONS',
  CONFLICT: 'SR_METRICS_CONFLICT',
} as const;

export type MetricsErrorCode = (typeof MetricsErrorCodes)[keyof typeof MetricsErrorCodes];

/** What each metrics code means, and the classes that carry it (docs/errors.md). */
export const MetricsErrorDescriptions: CodeDescriptions<MetricsErrorCode> = {
  SR_METRICS_OPTIONS: {
    classes: ['MetricsOptionsError'],
    meaning:
      'an option of `instrumentExecutor()` has the wrong type or is out of range; `option` names it. Nothing was registered.',
  },
  SR_METRICS_CONFLICT: {
    classes: ['MetricsConflictError'],
    meaning:
      'a metric name is already on the registry and cannot be shared (`metric` names it): use another `prefix`, or `executorLabel: true` with distinct `executor` names. Nothing was registered.',
  },
};

/** Base class of the errors of @stateful-route/metrics. */
export class MetricsError extends Error {
  readonly code: MetricsErrorCode;
  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
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
