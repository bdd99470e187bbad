import {
  InvalidOptionError,
  SnapshotSchemaError,
  ThresholdSyntaxError,
} from '@stateful-route/analyzer';
import {
  AuthError,
  ConnectionError,
  TimeoutError,
  ValidationError,
  RedisReplyError,
  ErrorCodes,
} from '@stateful-route/executor-core';
import { OptimizerOptionError } from '@stateful-route/optimizer';
import { InvalidReportError, UnsupportedFormatError } from '@stateful-route/reporter';
import { ConfigError, UnauthorizedError } from '@stateful-route/server';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../src/errors.js';
import { CliError, exitCodeOf, RemoteError, UnreachableError, UsageError } from '../src/index.js';

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
    ['analyzer threshold syntax', new ThresholdSyntaxError('p99<<5ms', 'x'), 2],
    ['analyzer option', new InvalidOptionError('alpha', 'x'), 2],
    ['analyzer snapshot schema', new SnapshotSchemaError(2, 'x'), 2],
    ['optimizer option', new OptimizerOptionError('rounds', 'x'), 2],
    ['reporter format', new UnsupportedFormatError('pdf', ['json']), 2],
    ['reporter report', new InvalidReportError('snapshot', 'x'), 2],
    ['an uncoded error', new TypeError('x'), 4],
    [
      'a plain Error whose code looks like ours',
      Object.assign(new Error('x'), { code: 'SR_ANALYZER_THRESHOLD_SYNTAX' }),
      4,
    ],
    ['a thrown string', 'x', 4],
  ])('%s -> %i', (_name, error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});

describe('the code printed for anything thrown', () => {
  it.each([
    ['an executor error', new ValidationError('uid', 'blank', 'x'), 'SR_VALIDATION'],
    [
      'an analyzer error',
      new ThresholdSyntaxError('p99<<5ms', 'x'),
      'SR_ANALYZER_THRESHOLD_SYNTAX',
    ],
    ['a server error', new UnauthorizedError(), 'SR_UNAUTHORIZED'],
    ['a CLI error', new UsageError('x'), 'SR_CLI_USAGE'],
    ["a server reply's code", new RemoteError(503, 'SR_REDIS_BUSY', 'x'), 'SR_REDIS_BUSY'],
    [
      'a plain Error with an SR_ code',
      Object.assign(new Error('x'), { code: 'SR_X' }),
      'SR_CLI_INTERNAL',
    ],
    ['a Node error', Object.assign(new Error('x'), { code: 'ENOENT' }), 'SR_CLI_INTERNAL'],
    ['a thrown string', 'SR_VALIDATION', 'SR_CLI_INTERNAL'],
  ])('%s -> %s', (_name, error, code) => {
    expect(codeOf(error)).toBe(code);
  });

  it('an error of the server package thrown in process keeps its code (exit 4)', () => {
    const error = new ConfigError('--port', 'is not a port');
    expect(codeOf(error)).toBe('SR_CONFIG');
    expect(exitCodeOf(error)).toBe(4);
    expect(new UsageError('x')).toBeInstanceOf(CliError);
  });
});
