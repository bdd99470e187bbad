/**
 * Errors thrown by the reporter. Each has a stable string `code` (listed in docs/errors.md,
 * generated from `ReporterErrorCodes` and `ReporterErrorDescriptions`) and the brand of every
 * stateful-route error (`isStatefulRouteError()` of executor-core); branch on `code` or the
 * class, never on the message.
 */

// executor-core's `ERROR_BRAND`. The reporter depends on executor-core only through the
// analyzer, so it sets the brand itself: a registered symbol is the same in every package.
const ERROR_BRAND: unique symbol = Symbol.for('stateful-route.error');

/**
 * Stable error codes of @stateful-route/reporter; what each means is in
 * `ReporterErrorDescriptions`. Never reuse a retired code.
 */
export const ReporterErrorCodes = {
  UNSUPPORTED_FORMAT: 'SR_REPORTER_FORMAT',
  INVALID_REPORT: 'SR_REPORTER_INVALID_REPORT',
} as const;

export type ReporterErrorCode = (typeof ReporterErrorCodes)[keyof typeof ReporterErrorCodes];

/**
 * What each reporter code means, and the classes that carry it (docs/errors.md). The shape of
 * executor-core's `CodeDescriptions`, written out: the reporter's types do not name
 * executor-core, which it does not depend on.
 */
export const ReporterErrorDescriptions: {
  readonly [C in ReporterErrorCode]: {
    readonly classes: readonly string[];
    readonly meaning: string;
  };
} = {
  SR_REPORTER_FORMAT: {
    classes: ['UnsupportedFormatError'],
    meaning:
      '`render()` was asked for a format other than `json`, `text`, `markdown` or `html`; `supported` lists them.',
  },
  SR_REPORTER_INVALID_REPORT: {
    classes: ['InvalidReportError'],
    meaning:
      'the report given to `render()` is not an object, or its `snapshot`, `comparison`, `findings` or `notes` has the wrong shape; `part` names it.',
  },
};

/** Base class of every reporter error. */
export class ReporterError extends Error {
  readonly code: ReporterErrorCode;
  constructor(code: ReporterErrorCode, message: string, options?: { cause?: unknown }) {
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
 * An unknown output format. `supported` lists the formats that exist.
 * @example
 * try { render(report, 'pdf' as never) } catch (e) { if (e instanceof UnsupportedFormatError) console.log(e.supported) }
 */
export class UnsupportedFormatError extends ReporterError {
  readonly format: string;
  readonly supported: readonly string[];
  constructor(format: string, supported: readonly string[]) {
    super(
      ReporterErrorCodes.UNSUPPORTED_FORMAT,
      `unsupported report format "${format}"; supported: ${supported.join(', ')}`,
    );
    this.format = format;
    this.supported = supported;
  }
}

/** The report has the wrong shape. `part` names the part (`snapshot`, `comparison`, ...). */
export class InvalidReportError extends ReporterError {
  readonly part: string;
  constructor(part: string, message: string, options?: { cause?: unknown }) {
    super(ReporterErrorCodes.INVALID_REPORT, `${part}: ${message}`, options);
    this.part = part;
  }
}
