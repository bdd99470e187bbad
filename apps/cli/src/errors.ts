/**
 * The CLI's own coded errors and the one place where any error becomes an exit code. An
 * error of any stateful-route package is recognised by its brand (`isStatefulRouteError`),
 * never by the look of its code. Executor codes keep their meaning: a validation error is a
 * usage error (exit 2), an unreachable or timed-out Redis, or one that refuses the
 * credentials, is an unreachable target (exit 3), and `allocate` finding no room
 * (`SR_NO_CAPACITY`) has an exit code of its own (5). The codes are listed in docs/errors.md,
 * generated from `CliErrorCodes`, `CliErrorDescriptions` and `exitCodeOfCode`.
 */
import { AnalyzerErrorCodes } from '@stateful-route/analyzer';
import {
  ERROR_BRAND,
  ErrorCodes,
  isStatefulRouteError,
  type CodeDescriptions,
} from '@stateful-route/executor-core';
import { OptimizerErrorCodes } from '@stateful-route/optimizer';
import { ReporterErrorCodes } from '@stateful-route/reporter';
import { CommanderError } from 'commander';

/** The documented exit codes. */
export const ExitCodes = {
  /** Everything went as asked. */
  OK: 0,
  /** The command ran, and found something: findings, a failed threshold, a regression. */
  FINDINGS: 1,
  /** Bad flags or arguments (including executor input rules, `SR_VALIDATION`). */
  USAGE: 2,
  /**
   * The target (Redis, the server, a metrics URL) could not be reached or timed out, or Redis
   * refused the credentials (`SR_REDIS_AUTH`).
   */
  UNREACHABLE: 3,
  /** Anything else. */
  OTHER: 4,
  /**
   * `allocate` found no live, non-draining pod with free capacity (`SR_NO_CAPACITY`, a 409
   * through a server): nothing was written. Not a fault: register pods, raise a capacity, or
   * retry later.
   */
  NO_CAPACITY: 5,
  /** Stopped by Ctrl-C (SIGINT) before the end: 128 + 2, as shells report it. */
  INTERRUPTED: 130,
} as const;

/** One of the documented exit codes. */
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/**
 * The CLI's error codes; what each means is in `CliErrorDescriptions`. Never reuse a retired
 * code.
 */
export const CliErrorCodes = {
  USAGE: 'SR_CLI_USAGE',
  UNREACHABLE: 'SR_CLI_UNREACHABLE',
  REMOTE: 'SR_CLI_REMOTE',
  INTERNAL: 'SR_CLI_INTERNAL',
} as const;

/** One of the CLI's own error codes. */
export type CliErrorCode = (typeof CliErrorCodes)[keyof typeof CliErrorCodes];

/**
 * What each CLI code means, and the classes that carry it (docs/errors.md, with the exit code
 * of `exitCodeOfCode`).
 */
export const CliErrorDescriptions: CodeDescriptions<CliErrorCode> = {
  SR_CLI_USAGE: {
    classes: ['UsageError'],
    meaning:
      'a flag, argument or input file of `stateful-route` is missing or malformed (no target, two targets, a bad URL, duration, mix or file, an argument whose bytes are not UTF-8); `field` names it (`argv[4]`: the 4th argument after the program name).',
  },
  SR_CLI_UNREACHABLE: {
    classes: ['UnreachableError'],
    meaning:
      'the server or a metrics URL could not be reached, or did not answer within `--timeout`.',
  },
  SR_CLI_REMOTE: {
    classes: ['RemoteError'],
    meaning:
      'the server answered with an error of no known code (a 401 without `--token`, a 404) or a reply the CLI cannot read. Exit code 4, or 2 for a 400, 413 or 415 and 3 for a 502-504. Known codes in a server reply keep their own meaning and exit code.',
  },
  SR_CLI_INTERNAL: {
    classes: [],
    meaning:
      "an error that is not a stateful-route error (it lacks the brand: a plain `Error` with an `SR_` code included) reached the CLI's top-level catch: a bug, or an error of a dependency; the stack is printed.",
  },
};

/** Base class of the CLI's own errors: a stable `code` and the exit code it maps to. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  /** The argument or option at fault, when there is one. */
  readonly field: string | undefined;
  constructor(
    code: string,
    exitCode: ExitCode,
    message: string,
    options?: { cause?: unknown; field?: string },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.field = options?.field;
  }
  /** The brand of every stateful-route error. */
  get [ERROR_BRAND](): true {
    return true;
  }
}

/** A flag, argument or input file the CLI cannot use (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super(CliErrorCodes.USAGE, ExitCodes.USAGE, message, options);
  }
}

/** The server or a metrics URL is unreachable or too slow (exit 3). */
export class UnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CliErrorCodes.UNREACHABLE, ExitCodes.UNREACHABLE, message, options);
  }
}

/**
 * An error reply of the server, `{ error: { code, message, field? } }`. `code` is the
 * server's code (an executor code such as `SR_VALIDATION`, or the server's own), so the
 * exit code is the one the same failure would give on a direct Redis target.
 */
export class RemoteError extends CliError {
  /** The HTTP status of the reply. */
  readonly status: number;
  constructor(status: number, code: string, message: string, field?: string) {
    super(code, exitCodeOfCode(code, status), message, field === undefined ? {} : { field });
    this.status = status;
  }
}

// Codes (the CLI's own and the other packages', by their constants) that mean "what you asked
// for is malformed": a bad option or threshold, a file that is not a snapshot, a report format
// that does not exist.
const USAGE_CODES = new Set<string>([
  ErrorCodes.VALIDATION,
  AnalyzerErrorCodes.INVALID_OPTION,
  AnalyzerErrorCodes.THRESHOLD_SYNTAX,
  AnalyzerErrorCodes.SNAPSHOT_SCHEMA,
  OptimizerErrorCodes.INVALID_OPTION,
  ReporterErrorCodes.UNSUPPORTED_FORMAT,
  ReporterErrorCodes.INVALID_REPORT,
  CliErrorCodes.USAGE,
]);

// The target cannot serve this client: Redis down, too slow, a cluster in trouble, or the
// credentials refused (a direct target, or a server whose Redis refuses its credentials, 503);
// or the server itself out of reach.
const UNREACHABLE_CODES = new Set<string>([
  ErrorCodes.CONNECTION,
  ErrorCodes.TIMEOUT,
  ErrorCodes.AUTH,
  ErrorCodes.CLUSTER,
  CliErrorCodes.UNREACHABLE,
]);

/** The exit code of an error code (executor, server or CLI), with the HTTP status as a hint. */
export function exitCodeOfCode(code: string, status?: number): ExitCode {
  if (USAGE_CODES.has(code)) return ExitCodes.USAGE;
  if (UNREACHABLE_CODES.has(code)) return ExitCodes.UNREACHABLE;
  // An answer about the service's pods, not a failure of the CLI or the target: a script
  // tells it apart from an error (to wait and retry, or to scale) by its own exit code.
  if (code === ErrorCodes.NO_CAPACITY) return ExitCodes.NO_CAPACITY;
  // Any other code: the server's own (`SR_BODY_TOO_LARGE`, `SR_UNSUPPORTED_MEDIA_TYPE`, ...)
  // or a proxy's. The status says enough: a 400, 413 or 415 is a request the server could
  // not take; a 502-504 means it cannot reach its backend, or a proxy cannot reach it.
  if (status === 400 || status === 413 || status === 415) return ExitCodes.USAGE;
  if (status === 502 || status === 503 || status === 504) return ExitCodes.UNREACHABLE;
  return ExitCodes.OTHER;
}

/** The exit code for anything thrown by a command. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
  if (isStatefulRouteError(error)) return exitCodeOfCode(error.code);
  return ExitCodes.OTHER;
}

/** The field an error names, if any (`ValidationError.field`, `CliError.field`). */
export function fieldOf(error: unknown): string | undefined {
  const field = (error as { field?: unknown } | null)?.field;
  return typeof field === 'string' ? field : undefined;
}

/**
 * The error code of anything thrown: a stateful-route error's own, or `SR_CLI_INTERNAL` for
 * anything else (an unbranded error, whatever its `code`).
 */
export function codeOf(error: unknown): string {
  return isStatefulRouteError(error) ? error.code : CliErrorCodes.INTERNAL;
}
