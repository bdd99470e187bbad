import {
  AuthError,
  ConnectionError,
  TimeoutError,
  ValidationError,
  RedisReplyError,
  ErrorCodes,
} from '@stateful-route/executor-core';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { exitCodeOf, RemoteError, UnreachableError, UsageError } from '../src/index.js';

describe('the one mapping from errors to exit codes', () => {
  it.each([
    ['a validation error', new ValidationError('uid', 'forbidden-character', 'x'), 2],
    ['a usage error', new UsageError('x'), 2],
    ['commander usage', new CommanderError(1, 'commander.unknownOption', 'x'), 2],
    ['commander help', new CommanderError(0, 'commander.helpDisplayed', 'x'), 0],
    ['Redis unreachable', new ConnectionError('x'), 3],
    ['Redis timeout', new TimeoutError('x'), 3],
    ['Redis refusing the credentials', new AuthError('NOPERM', 'x'), 3],
    ['Redis Cluster refusal', new RedisReplyError(ErrorCodes.CLUSTER, 'CLUSTERDOWN', 'x'), 3],
    ['Redis out of memory', new RedisReplyError(ErrorCodes.OUT_OF_MEMORY, 'OOM', 'x'), 4],
    ['server unreachable', new UnreachableError('x'), 3],
    ['server validation', new RemoteError(400, 'SR_VALIDATION', 'x', 'uid'), 2],
    ['server body too large', new RemoteError(413, 'SR_BODY_TOO_LARGE', 'x'), 2],
    ['server backend down', new RemoteError(503, 'SR_REDIS_CONNECTION', 'x'), 3],
    ['server credentials refused by Redis', new RemoteError(503, 'SR_REDIS_AUTH', 'x'), 3],
    ['proxy bad gateway', new RemoteError(502, 'SR_CLI_REMOTE', 'x'), 3],
    ['server unauthorized', new RemoteError(401, 'SR_UNAUTHORIZED', 'x'), 4],
    ['server internal', new RemoteError(500, 'SR_INTERNAL', 'x'), 4],
    [
      'analyzer threshold syntax',
      Object.assign(new Error('x'), { code: 'SR_ANALYZER_THRESHOLD_SYNTAX' }),
      2,
    ],
    ['an uncoded error', new TypeError('x'), 4],
    ['a thrown string', 'x', 4],
  ])('%s -> %i', (_name, error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});
