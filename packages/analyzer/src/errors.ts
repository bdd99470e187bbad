/**
 * Errors thrown by the analyzer. Each has a stable string `code` (documented in the README
 * and in docs/errors.md); branch on `code` or the class, never on the message.
 */

/** Stable error codes of @stateful-route/analyzer. Never reuse a retired code. */
export const AnalyzerErrorCodes = {
  /** An option of createAnalyzer, runWorkload or compare is out of range. */
  INVALID_OPTION: 'SR_ANALYZER_INVALID_OPTION',
  /** A threshold expression such as `p99<5ms` could not be parsed. */
  THRESHOLD_SYNTAX: 'SR_ANALYZER_THRESHOLD_SYNTAX',
  /** A Prometheus text exposition could not be parsed. */
  EXPOSITION_PARSE: 'SR_ANALYZER_EXPOSITION_PARSE',
  /** A snapshot has an unknown `schemaVersion` or is not a snapshot at all. */
  SNAPSHOT_SCHEMA: 'SR_ANALYZER_SNAPSHOT_SCHEMA',
} as const;

export type AnalyzerErrorCode = (typeof AnalyzerErrorCodes)[keyof typeof AnalyzerErrorCodes];

/** Base class of every analyzer error. */
export class AnalyzerError extends Error {
  readonly code: AnalyzerErrorCode;
  constructor(code: AnalyzerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option is out of range. `option` names it. */
export class InvalidOptionError extends AnalyzerError {
  readonly option: string;
  constructor(option: string, message: string) {
    super(AnalyzerErrorCodes.INVALID_OPTION, `${option}: ${message}`);
    this.option = option;
  }
}

/**
 * A threshold expression is malformed. `input` is the expression as given, `reason` says
 * what is wrong in a few words.
 * @example
 * try { parseThreshold('p99<<5ms') } catch (e) { if (e instanceof ThresholdSyntaxError) console.log(e.reason) }
 */
export class ThresholdSyntaxError extends AnalyzerError {
  readonly input: string;
  readonly reason: string;
  constructor(input: string, reason: string) {
    super(AnalyzerErrorCodes.THRESHOLD_SYNTAX, `invalid threshold "${input}": ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

/** A line of a Prometheus exposition is malformed. `line` is 1-based. */
export class ExpositionParseError extends AnalyzerError {
  readonly line: number;
  constructor(line: number, message: string) {
    super(AnalyzerErrorCodes.EXPOSITION_PARSE, `line ${line}: ${message}`);
    this.line = line;
  }
}

/** The value is not a snapshot of a schema version this package reads. */
export class SnapshotSchemaError extends AnalyzerError {
  /** The `schemaVersion` found, if any. */
  readonly found: unknown;
  constructor(found: unknown, message: string) {
    super(AnalyzerErrorCodes.SNAPSHOT_SCHEMA, message);
    this.found = found;
  }
}
