/**
 * The boundary where ioredis errors become typed executor errors. Redis error replies are
 * classified by their first word, the error code of the Redis protocol (NOSCRIPT, OOM,
 * CROSSSLOT, ...). ioredis reports its own client-side failures as plain errors; those few
 * are recognised here, and only here.
 */
import {
  ConnectionError,
  ErrorCodes,
  RedisReplyError,
  ScriptError,
  StatefulRouteError,
  TimeoutError,
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
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);

/** Wraps any error from ioredis in a typed `StatefulRouteError` (the original as `cause`). */
export function toExecutorError(error: unknown, script?: string): StatefulRouteError {
  if (error instanceof StatefulRouteError) return error;
  const e = (error ?? {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const reply = replyCode(error);
  if (reply) {
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
