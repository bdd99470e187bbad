/**
 * Errors thrown by the analyzer. Each has a stable string `code` (listed in docs/errors.md,
 * generated from `AnalyzerErrorCodes` and `AnalyzerErrorDescriptions`) and the brand of every
 * stateful-route error (`isStatefulRouteError()` of executor-core); branch on `code` or the
 * class, never on the message.
 */
import { ERROR_BRAND, type CodeDescriptions } from '@stateful-route/executor-core';

/**
 * Stable error codes of @stateful-route/analyzer; what each means is in
 * `AnalyzerErrorDescriptions`. Never reuse a retired code.
 */
export const AnalyzerErrorCodes = {
  INVALID_OPTION: 'SR_ANALYZER_INVALID_OPTION',
  THRESHOLD_SYNTAX: 'SR_ANALYZER_THRESHOLD_SYNTAX',
  EXPOSITION_PARSE: 'SR_ANALYZER_EXPOSITION_PARSE',
  SNAPSHOT_SCHEMA: 'SR_ANALYZER_SNAPSHOT_SCHEMA',
} as const;

export type AnalyzerErrorCode = (typeof AnalyzerErrorCodes)[keyof typeof AnalyzerErrorCodes];

/** What each analyzer code means, and the classes that carry it (docs/errors.md). */
export const AnalyzerErrorDescriptions: CodeDescriptions<AnalyzerErrorCode> = {
  SR_ANALYZER_INVALID_OPTION: {
    classes: ['InvalidOptionError'],
    meaning:
      'an option of `createAnalyzer()`, `runWorkload()`, `fromExposition()` or `compare()` is out of range (a window shorter than a slice, a non-positive duration or concurrency, an unknown operation or negative weight in `mix`, `alpha` outside (0, 1)), or a `runWorkload()` that could not clean up after itself (a namespace that already holds keys, an executor that cannot delete a namespace, both without `keep: true`); `option` names it.',
  },
  SR_ANALYZER_THRESHOLD_SYNTAX: {
    classes: ['ThresholdSyntaxError'],
    meaning:
      'a threshold such as `getServiceState.p99<5ms` could not be parsed: unknown metric, missing comparator, `=` instead of `<`/`>`, a unit that does not fit the metric; `input` is the expression and `reason` what is wrong.',
  },
  SR_ANALYZER_EXPOSITION_PARSE: {
    classes: ['ExpositionParseError'],
    meaning:
      'a scrape given to `fromExposition()` or `parseExposition()` is not Prometheus text format; `line` is the 1-based line of the first bad line.',
  },
  SR_ANALYZER_SNAPSHOT_SCHEMA: {
    classes: ['SnapshotSchemaError'],
    meaning:
      'a value given to `compare()` is not an analysis snapshot of `schemaVersion` 1; `found` is the version found.',
  },
};

/** Base class of every analyzer error. */
export class AnalyzerError extends Error {
  readonly code: AnalyzerErrorCode;
  constructor(code: AnalyzerErrorCode, message: string, options?: { cause?: unknown }) {
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
 * An option of the analyzer is out of range. `option` names it. (The optimizer's is
 * `OptimizerOptionError`.)
 */
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
