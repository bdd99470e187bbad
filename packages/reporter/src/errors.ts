/**
 * Errors thrown by the reporter. Each has a stable string `code` (documented in the README
 * and in docs/errors.md); branch on `code` or the class, never on the message.
 */

/** Stable error codes of @stateful-route/reporter. Never reuse a retired code. */
export const ReporterErrorCodes = {
  /** `render` was asked for a format it does not know. */
  UNSUPPORTED_FORMAT: 'SR_REPORTER_FORMAT',
  /** The report is not an object, or a part of it has the wrong shape. */
  INVALID_REPORT: 'SR_REPORTER_INVALID_REPORT',
} as const;

export type ReporterErrorCode = (typeof ReporterErrorCodes)[keyof typeof ReporterErrorCodes];

/** Base class of every reporter error. */
export class ReporterError extends Error {
  readonly code: ReporterErrorCode;
  constructor(code: ReporterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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
