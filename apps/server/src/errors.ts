/**
 * The server's own coded errors, and the one table that maps every error code (the
 * executor's and the server's) to an HTTP status. Codes are stable and listed in
 * docs/errors.md; clients branch on `code`, never on the message.
 */
import type { ErrorCode } from '@stateful-route/executor-core';

/** Codes the server adds to the executor's (`SR_VALIDATION` is shared with it). */
export const ServerErrorCodes = {
  /** The request broke an input rule (schema, id rules, batch cap); nothing was written. */
  VALIDATION: 'SR_VALIDATION',
  /** The route needs `Authorization: Bearer <token>` and it was missing or wrong. */
  UNAUTHORIZED: 'SR_UNAUTHORIZED',
  /** The request is not valid HTTP/1.1 (Node's parser refused it before any route saw it). */
  BAD_REQUEST: 'SR_BAD_REQUEST',
  /** No route has this path. */
  NOT_FOUND: 'SR_NOT_FOUND',
  /** The path exists, but not with this method (the `Allow` header lists those it has). */
  METHOD_NOT_ALLOWED: 'SR_METHOD_NOT_ALLOWED',
  /** The request (headers and body) did not arrive within the request or headers timeout. */
  REQUEST_TIMEOUT: 'SR_REQUEST_TIMEOUT',
  /** The request body is larger than the configured body limit. */
  BODY_TOO_LARGE: 'SR_BODY_TOO_LARGE',
  /** The request body is not `application/json`, or declares a charset other than UTF-8. */
  UNSUPPORTED_MEDIA_TYPE: 'SR_UNSUPPORTED_MEDIA_TYPE',
  /** The request line and headers are larger than 16 KiB. */
  HEADERS_TOO_LARGE: 'SR_HEADERS_TOO_LARGE',
  /** The server is shutting down and takes no new requests (retry on another replica). */
  SHUTTING_DOWN: 'SR_SHUTTING_DOWN',
  /** An unexpected failure inside the server (details in the server log, not the reply). */
  INTERNAL: 'SR_INTERNAL',
  /** A command-line flag or environment variable is malformed (bin exit code 2). */
  CONFIG: 'SR_CONFIG',
} as const;

export type ServerErrorCode = (typeof ServerErrorCodes)[keyof typeof ServerErrorCodes];

/** Every code an HTTP error reply can carry. */
export type ReplyErrorCode = ErrorCode | ServerErrorCode;

/** Base class of the server's errors: a stable `code` and the HTTP status it maps to. */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly statusCode: number;
  constructor(code: ServerErrorCode, statusCode: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
  }
}

/**
 * A request that broke an input rule before reaching the executor (JSON schema, path
 * syntax, batch cap). `field` names the offending input: `podId`, `uids`, `uids[3]`, `body`.
 */
export class RequestValidationError extends ServerError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(ServerErrorCodes.VALIDATION, 400, `${field}: ${message}`);
    this.field = field;
  }
}

/** A JSON body declared in a charset other than UTF-8 (`charset=iso-8859-1`, ...). */
export class UnsupportedMediaTypeError extends ServerError {
  constructor(message: string) {
    super(ServerErrorCodes.UNSUPPORTED_MEDIA_TYPE, 415, message);
  }
}

/** Missing or wrong bearer token. The message never says which, nor echoes the token. */
export class UnauthorizedError extends ServerError {
  constructor() {
    super(
      ServerErrorCodes.UNAUTHORIZED,
      401,
      'this route needs the header Authorization: Bearer <token>',
    );
  }
}

/** A malformed flag or environment variable. `source` is the flag or variable name. */
export class ConfigError extends ServerError {
  readonly source: string;
  constructor(source: string, message: string) {
    super(ServerErrorCodes.CONFIG, 500, `${source}: ${message}`);
    this.source = source;
  }
}

/**
 * HTTP status of each code. Backend unavailability is 503 (retry later; Redis refusing the
 * server's credentials included: the request was fine, the deployment is not), a full Redis is
 * 507 (retrying will not help until memory is freed), a broken invariant is 500.
 */
export const STATUS_OF_CODE: Readonly<Record<ReplyErrorCode, number>> = Object.freeze({
  SR_VALIDATION: 400,
  SR_BAD_REQUEST: 400,
  SR_UNAUTHORIZED: 401,
  SR_NOT_FOUND: 404,
  SR_METHOD_NOT_ALLOWED: 405,
  SR_REQUEST_TIMEOUT: 408,
  SR_BODY_TOO_LARGE: 413,
  SR_UNSUPPORTED_MEDIA_TYPE: 415,
  SR_HEADERS_TOO_LARGE: 431,
  SR_SHUTTING_DOWN: 503,
  SR_REDIS_CONNECTION: 503,
  SR_REDIS_TIMEOUT: 503,
  SR_REDIS_AUTH: 503,
  SR_REDIS_CLUSTER: 503,
  SR_REDIS_BUSY: 503,
  SR_EXECUTOR_CLOSED: 503,
  SR_REDIS_OOM: 507,
  SR_REDIS_SCRIPT: 500,
  SR_REDIS_COMMAND: 500,
  SR_CORRUPT_VALUE: 500,
  SR_UNSUPPORTED: 500,
  SR_INTERNAL: 500,
  SR_CONFIG: 500,
});

/** The HTTP status for an error code; 500 for a code this table does not know. */
export function statusOfCode(code: string): number {
  return (STATUS_OF_CODE as Record<string, number>)[code] ?? 500;
}
