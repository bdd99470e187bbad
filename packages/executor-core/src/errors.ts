/**
 * Every error the executor throws is a `StatefulRouteError` with a stable string `code`
 * (documented in docs/errors.md). Callers branch on `code` or on the class, never on the
 * message. Redis failures keep the original ioredis error as `cause`.
 */

/** Stable error codes. Never reuse a retired code. */
export const ErrorCodes = {
  /** An argument broke an input rule; nothing was sent to Redis. */
  VALIDATION: 'SR_VALIDATION',
  /** Redis could not be reached, or the connection was lost before the reply. */
  CONNECTION: 'SR_REDIS_CONNECTION',
  /** Redis did not answer within the command timeout. */
  TIMEOUT: 'SR_REDIS_TIMEOUT',
  /**
   * Redis refused this client's credentials or permissions (`NOAUTH`, `WRONGPASS`, `NOPERM`):
   * a changed password, a wrong one, or an ACL that denies a command or key the executor uses.
   */
  AUTH: 'SR_REDIS_AUTH',
  /** A Lua script failed inside Redis or replied with an unexpected shape. */
  SCRIPT: 'SR_REDIS_SCRIPT',
  /** Redis Cluster refused the command (CROSSSLOT, CLUSTERDOWN, unresolved redirection). */
  CLUSTER: 'SR_REDIS_CLUSTER',
  /** Redis is out of memory (`maxmemory` with `noeviction`): writes are refused. */
  OUT_OF_MEMORY: 'SR_REDIS_OOM',
  /** Redis is busy running a script, loading data, or is a read-only replica. */
  BUSY: 'SR_REDIS_BUSY',
  /** Any other error reply from Redis (e.g. WRONGTYPE). */
  COMMAND: 'SR_REDIS_COMMAND',
  /** A key holds a value the contract does not allow (e.g. a link that is not an integer). */
  CORRUPT_VALUE: 'SR_CORRUPT_VALUE',
  /** The executor was closed. */
  CLOSED: 'SR_EXECUTOR_CLOSED',
  /** A feature was asked for where it cannot work (e.g. an option on the wrong topology). */
  UNSUPPORTED: 'SR_UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * The coarse error classes used as metric labels (`error_type`). A small fixed set so that
 * label cardinality stays bounded.
 */
export type ErrorType = 'validation' | 'connection' | 'timeout' | 'script' | 'cluster' | 'other';

const typeOfCode: Record<ErrorCode, ErrorType> = {
  SR_VALIDATION: 'validation',
  SR_REDIS_CONNECTION: 'connection',
  SR_REDIS_TIMEOUT: 'timeout',
  // Like an unreachable Redis: the request was fine, this client cannot use Redis until an
  // operator fixes the credentials or the ACL.
  SR_REDIS_AUTH: 'connection',
  SR_REDIS_SCRIPT: 'script',
  SR_REDIS_CLUSTER: 'cluster',
  SR_REDIS_OOM: 'other',
  SR_REDIS_BUSY: 'other',
  SR_REDIS_COMMAND: 'other',
  SR_CORRUPT_VALUE: 'other',
  SR_EXECUTOR_CLOSED: 'connection',
  SR_UNSUPPORTED: 'other',
};

/** The `error_type` label of any thrown value. */
export function errorTypeOf(error: unknown): ErrorType {
  return error instanceof StatefulRouteError ? typeOfCode[error.code] : 'other';
}

/** Base class of every error thrown by stateful-route packages. */
export class StatefulRouteError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
  /** The coarse class for metrics. */
  get errorType(): ErrorType {
    return typeOfCode[this.code];
  }
}

/** The input rule that a rejected argument broke. */
export type ValidationRule =
  | 'type'
  | 'blank'
  | 'forbidden-character'
  | 'control-character'
  | 'malformed-unicode'
  | 'too-long'
  | 'integer'
  | 'range';

/**
 * An argument broke an input rule of the contract (section 4). Thrown before any I/O:
 * nothing was written.
 * @example
 * try { await executor.getLinkedPod('ns', 'a}b', 'room') }
 * catch (e) { if (e instanceof ValidationError) console.log(e.field, e.rule) } // 'uid' 'forbidden-character'
 */
export class ValidationError extends StatefulRouteError {
  /** The argument that failed: `namespace`, `service`, `uid`, `podId`, `state`, ... */
  readonly field: string;
  readonly rule: ValidationRule;
  constructor(field: string, rule: ValidationRule, message: string) {
    super(ErrorCodes.VALIDATION, `${field}: ${message}`);
    this.field = field;
    this.rule = rule;
  }
}

/** Redis could not be reached or the connection dropped. `cause` is the client's error. */
export class ConnectionError extends StatefulRouteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.CONNECTION, message, options);
  }
}

/** A command did not complete within the configured timeout. */
export class TimeoutError extends StatefulRouteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.TIMEOUT, message, options);
  }
}

/** An error reply from Redis. `reply` is the reply's first word (`NOSCRIPT`, `OOM`, ...). */
export class RedisReplyError extends StatefulRouteError {
  readonly reply: string;
  constructor(code: ErrorCode, reply: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.reply = reply;
  }
}

/** The Redis error replies that mean "this client's credentials or permissions are refused". */
export type AuthReply = 'NOAUTH' | 'WRONGPASS' | 'NOPERM';

/**
 * Redis refused this client's credentials or permissions: `reply` is `NOAUTH` (Redis wants a
 * password the client did not send, e.g. one set while it was connected), `WRONGPASS` (the
 * client's username or password is wrong, e.g. rotated) or `NOPERM` (an ACL denies the user a
 * command or key the executor needs). Retrying the same call does not help until the
 * configuration is fixed; the server answers 503. `cause` is the ioredis reply, whose text
 * can name a key: the message does not repeat it.
 * @example
 * try { await executor.getLinkedPod('ns', 'user-1', 'room') }
 * catch (e) { if (e instanceof AuthError) console.error('fix the Redis credentials:', e.reply) }
 */
export class AuthError extends RedisReplyError {
  declare readonly reply: AuthReply;
  constructor(reply: AuthReply, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.AUTH, reply, message, options);
  }
}

/** A script failed or replied in a shape the contract does not allow. */
export class ScriptError extends RedisReplyError {
  /** The script's name (`set-linked-pod`, ...). */
  readonly script: string;
  constructor(script: string, reply: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.SCRIPT, reply, message, options);
    this.script = script;
  }
}

/** A Redis key holds a value the contract forbids; the key is named, the value is not. */
export class CorruptValueError extends StatefulRouteError {
  /**
   * The Redis key that holds the value. Not enumerable: a key embeds the namespace and the
   * uid, and errors are serialised into logs and diagnostics payloads (the `error` of an
   * `OperationMessage`), which must carry no user values.
   */
  declare readonly key: string;
  constructor(key: string, message: string) {
    super(ErrorCodes.CORRUPT_VALUE, message);
    Object.defineProperty(this, 'key', { value: key, enumerable: false });
  }
}

/** The executor was closed and takes no more calls. */
export class ExecutorClosedError extends StatefulRouteError {
  constructor() {
    super(ErrorCodes.CLOSED, 'the executor is closed');
  }
}

/** An option or feature that cannot work in this configuration. */
export class UnsupportedError extends StatefulRouteError {
  constructor(message: string) {
    super(ErrorCodes.UNSUPPORTED, message);
  }
}
