/**
 * The boundary where ioredis errors become typed executor errors. Redis error replies are
 * classified by their first word, the error code of the Redis protocol (NOSCRIPT, OOM,
 * CROSSSLOT, ...). ioredis reports its own client-side failures as plain errors; those few
 * are recognised here, and only here.
 */
import {
  AuthError,
  ConnectionError,
  ErrorCodes,
  RedisReplyError,
  ScriptError,
  StatefulRouteError,
  TimeoutError,
  type AuthReply,
} from '../errors.js';

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

/** The first word of a Redis error reply (`NOSCRIPT`, `MOVED`, `ERR`, ...), or ''. */
export function replyCode(error: unknown): string {
  const e = error as ErrorLike | null;
  if (!e || e.name !== 'ReplyError' || typeof e.message !== 'string') return '';
  const space = e.message.indexOf(' ');
  return space === -1 ? e.message : e.message.slice(0, space);
}

export function isNoscript(error: unknown): boolean {
  return replyCode(error) === 'NOSCRIPT';
}

const CLUSTER_REPLIES = new Set(['CROSSSLOT', 'CLUSTERDOWN', 'MOVED', 'ASK', 'TRYAGAIN']);
const BUSY_REPLIES = new Set([
  'BUSY',
  'LOADING',
  'READONLY',
  'MASTERDOWN',
  'NOREPLICAS',
  'MISCONF',
]);

// Redis refuses this client, not this call: checked before the script context, so a script
// call answered NOAUTH is an AuthError, not a ScriptError. ioredis hands these replies to the
// calls it had queued when AUTH (WRONGPASS) or its ready check (NOAUTH) fails on reconnect.
// NOPERM is an ACL denying the user a command or a key the executor needs: a deployment
// problem to fix like a wrong password, not a bad request (4xx) nor a server fault (500).
const AUTH_MESSAGES: Readonly<Record<AuthReply, string>> = {
  NOAUTH: 'Redis requires authentication and this client is not authenticated (NOAUTH)',
  WRONGPASS: 'Redis refused the username or password of this client (WRONGPASS)',
  NOPERM: 'the Redis ACL denies this user a command or a key the executor needs (NOPERM)',
};

function isAuthReply(reply: string): reply is AuthReply {
  return Object.hasOwn(AUTH_MESSAGES, reply);
}

// The Redis text is left out of the message (it stays in `cause`): a NOPERM reply can name
// the key, which embeds a namespace and a uid.
function authError(reply: AuthReply, cause: unknown): AuthError {
  return new AuthError(reply, AUTH_MESSAGES[reply], { cause });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);

/**
 * Wraps an error of ioredis in the typed `StatefulRouteError` the executor throws for it, the
 * original as `cause`: for code that uses its own ioredis client next to the executor (its
 * own `connect()`, a raw command) and wants the same codes. A `StatefulRouteError` is returned
 * as it is.
 * @param script the script's name when the error came from a script call (a reply other
 * than the unavailability ones then becomes a `ScriptError`)
 * @example
 * client.on('error', (e) => console.warn(toExecutorError(e).code)); // 'SR_REDIS_AUTH', ...
 */
export function toExecutorError(error: unknown, script?: string): StatefulRouteError {
  if (error instanceof StatefulRouteError) return error;
  const e = (error ?? {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const reply = replyCode(error);
  if (reply) {
    if (isAuthReply(reply)) return authError(reply, error);
    if (reply === 'OOM')
      return new RedisReplyError(
        ErrorCodes.OUT_OF_MEMORY,
        reply,
        `Redis is out of memory: ${message}`,
        { cause: error },
      );
    if (CLUSTER_REPLIES.has(reply))
      return new RedisReplyError(
        ErrorCodes.CLUSTER,
        reply,
        `Redis Cluster refused the command: ${message}`,
        { cause: error },
      );
    if (BUSY_REPLIES.has(reply))
      return new RedisReplyError(ErrorCodes.BUSY, reply, `Redis is busy or read-only: ${message}`, {
        cause: error,
      });
    if (script)
      return new ScriptError(script, reply, `script ${script} failed: ${message}`, {
        cause: error,
      });
    return new RedisReplyError(ErrorCodes.COMMAND, reply, `Redis refused the command: ${message}`, {
      cause: error,
    });
  }
  // ioredis' own failures (not replies). ioredis exposes no classes or codes for these.
  if (e.name === 'ClusterAllFailedError') {
    // Every node failed the slot refresh; when the last one refused our credentials, that is
    // why (the nodes answer, they just do not take this client).
    const last = replyCode((error as { lastNodeError?: unknown }).lastNodeError);
    if (isAuthReply(last)) return authError(last, error);
  }
  if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError') {
    return new ConnectionError(`Redis is unreachable: ${message}`, { cause: error });
  }
  if (message === 'Command timed out')
    return new TimeoutError('Redis did not answer within the command timeout', { cause: error });
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new ConnectionError(`Redis is unreachable: ${message}`, { cause: error });
  }
  if (
    message.startsWith('Connection is closed') ||
    message.startsWith("Stream isn't writeable") ||
    message.startsWith('Cluster isn') ||
    message.startsWith('None of startup nodes') ||
    message.startsWith('Failed to refresh slots cache') ||
    message.includes('enableOfflineQueue')
  ) {
    return new ConnectionError(`Redis is unreachable: ${message}`, { cause: error });
  }
  if (message.startsWith('Too many Cluster redirections')) {
    return new RedisReplyError(
      ErrorCodes.CLUSTER,
      '',
      `Redis Cluster redirections did not settle: ${message}`,
      { cause: error },
    );
  }
  return new StatefulRouteError(ErrorCodes.COMMAND, `Redis call failed: ${message}`, {
    cause: error,
  });
}
