/**
 * The CLI's own coded errors and the one place where any error becomes an exit code.
 * Executor codes keep their meaning: a validation error is a usage error (exit 2), an
 * unreachable or timed-out Redis, or one that refuses the credentials, is an unreachable
 * target (exit 3).
 */
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
} as const;

/** One of the documented exit codes. */
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** The CLI's error codes (documented in docs/errors.md). */
export const CliErrorCodes = {
  /** A flag, an argument or an input file is missing or malformed. */
  USAGE: 'SR_CLI_USAGE',
  /** The server or metrics endpoint could not be reached or did not answer in time. */
  UNREACHABLE: 'SR_CLI_UNREACHABLE',
  /** The server answered with an error or a reply the CLI does not understand. */
  REMOTE: 'SR_CLI_REMOTE',
  /** An error without a code (a bug, or an uncoded error of a dependency). */
  INTERNAL: 'SR_CLI_INTERNAL',
} as const;

/** One of the CLI's own error codes. */
export type CliErrorCode = (typeof CliErrorCodes)[keyof typeof CliErrorCodes];

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

// Codes of other stateful-route packages that mean "what you asked for is malformed": a
// bad option or threshold, a file that is not a snapshot, a report format that does not exist.
const USAGE_CODES = new Set([
  'SR_VALIDATION',
  'SR_ANALYZER_INVALID_OPTION',
  'SR_ANALYZER_THRESHOLD_SYNTAX',
  'SR_ANALYZER_SNAPSHOT_SCHEMA',
  'SR_OPTIMIZER_INVALID_OPTION',
  'SR_REPORTER_FORMAT',
  'SR_REPORTER_INVALID_REPORT',
]);

// Redis cannot serve this client: down, too slow, a cluster in trouble, or the credentials
// refused (a direct target, or a server whose Redis refuses its credentials, 503).
const UNREACHABLE_CODES = new Set([
  'SR_REDIS_CONNECTION',
  'SR_REDIS_TIMEOUT',
  'SR_REDIS_AUTH',
  'SR_REDIS_CLUSTER',
]);

/** The exit code of an error code (executor, server or CLI), with the HTTP status as a hint. */
export function exitCodeOfCode(code: string, status?: number): ExitCode {
  if (USAGE_CODES.has(code) || code === CliErrorCodes.USAGE) return ExitCodes.USAGE;
  if (UNREACHABLE_CODES.has(code) || code === CliErrorCodes.UNREACHABLE) {
    return ExitCodes.UNREACHABLE;
  }
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
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SR_')) return exitCodeOfCode(code);
  return ExitCodes.OTHER;
}

/** The field an error names, if any (`ValidationError.field`, `CliError.field`). */
export function fieldOf(error: unknown): string | undefined {
  const field = (error as { field?: unknown } | null)?.field;
  return typeof field === 'string' ? field : undefined;
}

/** The error code of anything thrown, or `SR_CLI_INTERNAL` for an uncoded error. */
export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SR_') ? code : CliErrorCodes.INTERNAL;
}
