/**
 * The errors of executor-core: every one is a `StatefulRouteError` with a stable string `code`
 * (listed in docs/errors.md, generated from `ErrorCodes` and `ErrorDescriptions`). Callers
 * branch on `code` or on the class, never on the message. Redis failures keep the original
 * ioredis error as `cause`.
 *
 * The errors of the other stateful-route packages are not subclasses of `StatefulRouteError`:
 * each package has its own base class, and metrics and the reporter do not load executor-core
 * at run time at all. What they all share is the brand, `ERROR_BRAND`
 * (`Symbol.for('stateful-route.error')`), which `isStatefulRouteError()` tests, as undici
 * brands its errors. Test the brand, never a code prefix.
 */

/**
 * The brand every error of every stateful-route package carries (`error[ERROR_BRAND] ===
 * true`, on its prototype). A registered symbol, so a package that must not load executor-core
 * at run time sets it with `Symbol.for('stateful-route.error')`, and two copies of a package
 * recognise each other's errors.
 */
export const ERROR_BRAND: unique symbol = Symbol.for('stateful-route.error');

/** An error of any stateful-route package, as `isStatefulRouteError()` narrows it. */
export interface StatefulRouteErrorLike extends Error {
  /** The stable code, listed in docs/errors.md. */
  readonly code: string;
  readonly [ERROR_BRAND]: true;
}

/**
 * Whether `value` is an error of any stateful-route package (executor-core, metrics, analyzer,
 * optimizer, reporter, the server, the CLI): it carries the brand and a string `code`. A plain
 * `Error` with a `code` that looks like one (`SR_...`) is not.
 * @example
 * catch (e) { if (isStatefulRouteError(e)) reply(statusOf(e.code), e.code, e.message) }
 */
export function isStatefulRouteError(value: unknown): value is StatefulRouteErrorLike {
  if (typeof value !== 'object' || value === null) return false;
  const branded = value as { [ERROR_BRAND]?: unknown; code?: unknown; message?: unknown };
  return (
    branded[ERROR_BRAND] === true &&
    typeof branded.code === 'string' &&
    typeof branded.message === 'string'
  );
}

/**
 * How docs/errors.md describes one code of a package: the exported classes whose instances
 * carry it (empty when none does: the code is only ever in a reply) and its meaning, one line
 * of Markdown.
 */
export interface CodeDescription {
  readonly classes: readonly string[];
  readonly meaning: string;
}

/**
 * The description of every code of a package's code table: the registry docs/errors.md is
 * generated from.
 */
export type CodeDescriptions<Code extends string> = { readonly [C in Code]: CodeDescription };

/**
 * Stable error codes of executor-core; what each means is in `ErrorDescriptions`. Never reuse
 * a retired code.
 */
export const ErrorCodes = {
  VALIDATION: 'SR_VALIDATION',
  CONNECTION: 'SR_REDIS_CONNECTION',
  TIMEOUT: 'SR_REDIS_TIMEOUT',
  AUTH: 'SR_REDIS_AUTH',
  SCRIPT: 'SR_REDIS_SCRIPT',
  CLUSTER: 'SR_REDIS_CLUSTER',
  OUT_OF_MEMORY: 'SR_REDIS_OOM',
  BUSY: 'SR_REDIS_BUSY',
  COMMAND: 'SR_REDIS_COMMAND',
  CORRUPT_VALUE: 'SR_CORRUPT_VALUE',
  CLOSED: 'SR_EXECUTOR_CLOSED',
  UNSUPPORTED: 'SR_UNSUPPORTED',
  NO_CAPACITY: 'SR_NO_CAPACITY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** What each executor-core code means, and the classes that carry it (docs/errors.md). */
export const ErrorDescriptions: CodeDescriptions<ErrorCode> = {
  SR_VALIDATION: {
    classes: ['ValidationError'],
    meaning:
      'an argument broke an input rule of the contract (section 4); `field` names the argument (`namespace`, `uid`, `uids[3]`, `podId`, `options`, ...; an unknown option by its key) and `rule` the rule (`blank`, `forbidden-character`, `control-character`, `malformed-unicode`, `too-long`, `type`, `integer`, `range`, `required`, `unknown-option`, `one-of`). Thrown before any I/O: nothing was written.',
  },
  SR_REDIS_CONNECTION: {
    classes: ['ConnectionError'],
    meaning:
      'Redis could not be reached, or the connection was lost before the reply (`cause` is the ioredis error).',
  },
  SR_REDIS_TIMEOUT: {
    classes: ['TimeoutError'],
    meaning: "Redis did not answer within the client's command timeout.",
  },
  SR_REDIS_AUTH: {
    classes: ['AuthError'],
    meaning:
      "Redis refused this client's credentials or permissions; `reply` is `NOAUTH` (no password sent, e.g. one set while connected), `WRONGPASS` (wrong or rotated password) or `NOPERM` (an ACL denies a command or key the executor uses). Given on every call, script calls and calls queued while reconnecting included; the message never quotes the reply (`NOPERM` can name a key).",
  },
  SR_REDIS_SCRIPT: {
    classes: ['ScriptError'],
    meaning:
      'a link script failed inside Redis (e.g. a link key holds the wrong type; the scripts check types before writing, so nothing was written) or replied in a shape the contract does not allow; `script` names it.',
  },
  SR_REDIS_CLUSTER: {
    classes: ['RedisReplyError'],
    meaning:
      "Redis Cluster refused the command (`CROSSSLOT`, `CLUSTERDOWN`, `MOVED`/`ASK`/`TRYAGAIN` that never settled); `reply` is the reply's first word.",
  },
  SR_REDIS_OOM: {
    classes: ['RedisReplyError'],
    meaning:
      'Redis is out of memory (`maxmemory` with `noeviction`): writes are refused until memory is freed.',
  },
  SR_REDIS_BUSY: {
    classes: ['RedisReplyError'],
    meaning:
      'Redis is busy or cannot take writes: `BUSY`, `LOADING`, `READONLY`, `MASTERDOWN`, `NOREPLICAS`, `MISCONF`.',
  },
  SR_REDIS_COMMAND: {
    classes: ['RedisReplyError', 'StatefulRouteError'],
    meaning:
      'any other Redis error reply (e.g. `WRONGTYPE` on a state key) or an unrecognised client failure.',
  },
  SR_CORRUPT_VALUE: {
    classes: ['CorruptValueError'],
    meaning:
      'a key holds a value the contract forbids: `getLinkedPod` read a link that is not a decimal integer. `key` (not enumerable) names the key; the value is never included.',
  },
  SR_EXECUTOR_CLOSED: {
    classes: ['ExecutorClosedError'],
    meaning: 'the executor was closed and takes no more calls.',
  },
  SR_UNSUPPORTED: {
    classes: ['UnsupportedError'],
    meaning:
      'a feature was asked for where it cannot work (the near cache on a Cluster, or on a Redis without `CLIENT TRACKING`).',
  },
  SR_NO_CAPACITY: {
    classes: ['NoCapacityError'],
    meaning:
      '`allocate` found no live, non-draining pod of the service with free capacity (after releasing the claims of expired links); nothing was written. Not a fault: register pods, raise capacity or retry later.',
  },
};

/**
 * The coarse error classes used as metric labels (`error_type`). A small fixed set so that
 * label cardinality stays bounded.
 */
export type ErrorType =
  'validation' | 'capacity' | 'connection' | 'timeout' | 'script' | 'cluster' | 'other';

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
  // An answer about the service's pods, not a fault of the toolkit or of Redis: like
  // validation, kept out of the error ratios that page.
  SR_NO_CAPACITY: 'capacity',
};

/** The `error_type` label of any thrown value. */
export function errorTypeOf(error: unknown): ErrorType {
  return error instanceof StatefulRouteError ? typeOfCode[error.code] : 'other';
}

/**
 * Base class of executor-core's errors (not of the other packages': recognise those with
 * `isStatefulRouteError()`).
 */
export class StatefulRouteError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
  // The brand, and no brand-aware `static [Symbol.hasInstance]`: `instanceof
  // StatefulRouteError` stays the prototype check, because executor-core relies on what it
  // narrows to (an `ErrorCode` and an `errorType`, in `toExecutorError`, `errorTypeOf` and the
  // diagnostics payloads), which the other packages' errors do not have.
  /** The brand of every stateful-route error. */
  get [ERROR_BRAND](): true {
    return true;
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
  | 'range'
  | 'required'
  | 'unknown-option'
  | 'one-of';

/**
 * An argument broke an input rule of the contract (section 4). Thrown before any I/O:
 * nothing was written.
 * @example
 * try { await executor.getLinkedPod('ns', 'a}b', 'room') }
 * catch (e) { if (e instanceof ValidationError) console.log(e.field, e.rule) } // 'uid' 'forbidden-character'
 */
export class ValidationError extends StatefulRouteError {
  /**
   * The argument that failed: `namespace`, `service`, `uid`, `podId`, `state`, ... (an
   * options argument that is not a plain object is `options`; an unknown key is named as is).
   */
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

/**
 * `allocate` found no live, non-draining pod with free capacity; nothing was written.
 * @example
 * try { await executor.allocate('ns', 'user-1', 'room', { persistSeconds: -1 }) }
 * catch (e) { if (e instanceof NoCapacityError) return queueUser() }
 */
export class NoCapacityError extends StatefulRouteError {
  constructor(message = 'no live, non-draining pod of the service has free capacity') {
    super(ErrorCodes.NO_CAPACITY, message);
  }
}
