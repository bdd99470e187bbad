/**
 * The server's own coded errors, and the one table that maps every error code (the
 * executor's and the server's) to an HTTP status. Codes are stable and listed in
 * docs/errors.md (generated from `ServerErrorCodes`, `ServerErrorDescriptions` and
 * `STATUS_OF_CODE`); clients branch on `code`, never on the message. The errors carry the
 * brand of every stateful-route error (`isStatefulRouteError()` of executor-core).
 */
import { ERROR_BRAND, type CodeDescriptions, type ErrorCode } from '@stateful-route/executor-core';

/**
 * Codes the server adds to the executor's (`SR_VALIDATION` is shared with it); what each
 * means is in `ServerErrorDescriptions`. Never reuse a retired code.
 */
export const ServerErrorCodes = {
  VALIDATION: 'SR_VALIDATION',
  UNAUTHORIZED: 'SR_UNAUTHORIZED',
  BAD_REQUEST: 'SR_BAD_REQUEST',
  NOT_FOUND: 'SR_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'SR_METHOD_NOT_ALLOWED',
  REQUEST_TIMEOUT: 'SR_REQUEST_TIMEOUT',
  BODY_TOO_LARGE: 'SR_BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'SR_UNSUPPORTED_MEDIA_TYPE',
  HEADERS_TOO_LARGE: 'SR_HEADERS_TOO_LARGE',
  SHUTTING_DOWN: 'SR_SHUTTING_DOWN',
  METRICS_UNAVAILABLE: 'SR_METRICS_UNAVAILABLE',
  INTERNAL: 'SR_INTERNAL',
  CONFIG: 'SR_CONFIG',
} as const;

export type ServerErrorCode = (typeof ServerErrorCodes)[keyof typeof ServerErrorCodes];

/**
 * Every code an HTTP error reply can carry: all but `SR_CONFIG`, which is thrown at start-up,
 * before the server listens.
 */
export type ReplyErrorCode = ErrorCode | Exclude<ServerErrorCode, typeof ServerErrorCodes.CONFIG>;

/**
 * What each server code means, and the classes that carry it (none for the codes that are
 * only ever in a reply). The rows of docs/errors.md, with the status of `STATUS_OF_CODE`.
 */
export const ServerErrorDescriptions: CodeDescriptions<ServerErrorCode> = {
  SR_VALIDATION: {
    classes: ['RequestValidationError'],
    meaning:
      "a request broke a rule before reaching the executor: its JSON schema (wrong type, missing or unknown property, bad JSON, a body that is not an object), a path or query integer that is not canonical decimal (`01`, `1.5`, `1e3`, `-0`), a batch over `--max-batch`, a body that is not valid UTF-8 (`field` `body`), or a URL that is not valid percent-encoded UTF-8; `field` names the input (`podId`, `uids`, `uids[3]`, `body`, `path`). Nothing was written. The id rules themselves are the executor's (same code).",
  },
  SR_UNAUTHORIZED: {
    classes: ['UnauthorizedError'],
    meaning:
      'the server runs with `--token` (or `--metrics-token` for `/metrics`) and the request had no `Authorization: Bearer <token>` header or a wrong one. Checked before the body is read.',
  },
  SR_BAD_REQUEST: {
    classes: [],
    meaning:
      "the request is not valid HTTP/1.1: Node's parser refused it before any route saw it (a malformed request line or header, both `Content-Length` and `Transfer-Encoding`, an HTTP version other than 1.0 or 1.1). Nothing was written; the connection is closed.",
  },
  SR_NOT_FOUND: {
    classes: [],
    meaning: 'no route has this path.',
  },
  SR_METHOD_NOT_ALLOWED: {
    classes: [],
    meaning:
      'the path exists, but not with this method; the `Allow` header lists the methods it has (`GET, HEAD, PUT`). Nothing was written.',
  },
  SR_REQUEST_TIMEOUT: {
    classes: [],
    meaning:
      'the request did not arrive in time: its line, headers and body within `--request-timeout-ms` (30 s by default), or its line and headers within 10 s (or the request timeout when shorter). Nothing was written; the connection is closed.',
  },
  SR_BODY_TOO_LARGE: {
    classes: [],
    meaning:
      "the request body is larger than `--body-limit` (64 KiB by default), or the chunk extensions of a chunked body are larger than 16 KiB (Node's parser; the connection is then closed). Nothing was written.",
  },
  SR_UNSUPPORTED_MEDIA_TYPE: {
    classes: ['UnsupportedMediaTypeError'],
    meaning:
      'a request body was sent with a `Content-Type` other than `application/json`, or with a `charset` other than UTF-8 (`application/json; charset=iso-8859-1`). Nothing was written.',
  },
  SR_HEADERS_TOO_LARGE: {
    classes: [],
    meaning:
      "the request line and headers are larger than 16 KiB (Node's `maxHeaderSize`). Nothing was written; the connection is closed.",
  },
  SR_SHUTTING_DOWN: {
    classes: [],
    meaning:
      'the server got SIGTERM or SIGINT and is finishing the requests in flight: a request that arrives on a connection still open is refused (with `Retry-After: 1` and `Connection: close`). Nothing was written; retry, on another instance.',
  },
  SR_METRICS_UNAVAILABLE: {
    classes: [],
    meaning:
      'the server runs with `--workers` above 1 and a worker did not hand over its metrics for `/metrics` within 5 s (busy, stopped, or exiting). No partial sum is sent: it would look like a counter reset. The next scrape asks again.',
  },
  SR_INTERNAL: {
    classes: [],
    meaning:
      'an error that is neither a stateful-route error (it lacks the brand: a plain `Error` with an `SR_` code included) nor a known framework error reached the server\'s error handler: a bug. The reply says only "internal server error"; the stack is in the server log (level `error`, with the request id).',
  },
  SR_CONFIG: {
    classes: ['ConfigError'],
    meaning:
      "a flag or environment variable of `stateful-route-server` is malformed or conflicting (`--port 80a`, both `--redis` and `--redis-cluster`, a token shorter than 8 characters); `source` names it (the token's value is never shown). Thrown at start-up, before the server listens: the bin prints it and exits with code 2.",
  },
};

/**
 * HTTP status of each code. No pod with room for an allocation is 409 (the request conflicts
 * with the service's state now; nothing was written). Backend unavailability is 503 (retry later; Redis refusing the
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
  SR_NO_CAPACITY: 409,
  SR_BODY_TOO_LARGE: 413,
  SR_UNSUPPORTED_MEDIA_TYPE: 415,
  SR_HEADERS_TOO_LARGE: 431,
  SR_SHUTTING_DOWN: 503,
  SR_METRICS_UNAVAILABLE: 503,
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
});

/**
 * The HTTP status for an error code; 500 for a code this table does not know (the codes of
 * the metrics, analyzer, optimizer and reporter: a library refusing what the server gave it
 * is the server's fault; `SR_CONFIG`, should a `ConfigError` ever reach a request).
 */
export function statusOfCode(code: string): number {
  return (STATUS_OF_CODE as Record<string, number>)[code] ?? 500;
}

/** Base class of the server's errors: a stable `code` and its HTTP status (`STATUS_OF_CODE`). */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly statusCode: number;
  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusOfCode(code);
  }
  /** The brand of every stateful-route error. */
  get [ERROR_BRAND](): true {
    return true;
  }
}

/**
 * A request that broke an input rule before reaching the executor (JSON schema, path
 * syntax, batch cap). `field` names the offending input: `podId`, `uids`, `uids[3]`, `body`.
 */
export class RequestValidationError extends ServerError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(ServerErrorCodes.VALIDATION, `${field}: ${message}`);
    this.field = field;
  }
}

/** A JSON body declared in a charset other than UTF-8 (`charset=iso-8859-1`, ...). */
export class UnsupportedMediaTypeError extends ServerError {
  constructor(message: string) {
    super(ServerErrorCodes.UNSUPPORTED_MEDIA_TYPE, message);
  }
}

/** Missing or wrong bearer token. The message never says which, nor echoes the token. */
export class UnauthorizedError extends ServerError {
  constructor() {
    super(
      ServerErrorCodes.UNAUTHORIZED,
      'this route needs the header Authorization: Bearer <token>',
    );
  }
}

/** A malformed flag or environment variable. `source` is the flag or variable name. */
export class ConfigError extends ServerError {
  readonly source: string;
  constructor(source: string, message: string) {
    super(ServerErrorCodes.CONFIG, `${source}: ${message}`);
    this.source = source;
  }
}
