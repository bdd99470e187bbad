import { InvalidOptionError, ThresholdSyntaxError } from '@stateful-route/analyzer';
import {
  AuthError,
  ConnectionError,
  CorruptValueError,
  ErrorCodes,
  ExecutorClosedError,
  RedisReplyError,
  ScriptError,
  TimeoutError,
  UnsupportedError,
  ValidationError,
  type ErrorCode,
} from '@stateful-route/executor-core';
import { MetricsConflictError, MetricsOptionsError } from '@stateful-route/metrics';
import { OptimizerOptionError } from '@stateful-route/optimizer';
import { InvalidReportError, UnsupportedFormatError } from '@stateful-route/reporter';
import { describe, expect, test } from 'vitest';
import {
  ConfigError,
  mapError,
  RequestValidationError,
  STATUS_OF_CODE,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../src/index.js';

describe('mapError', () => {
  test.each([
    [new ValidationError('uid', 'blank', 'must not be blank'), 400],
    [new ConnectionError('connection refused'), 503],
    [new TimeoutError('command timed out'), 503],
    [new AuthError('WRONGPASS', 'Redis refused the username or password'), 503],
    [new RedisReplyError(ErrorCodes.CLUSTER, 'CLUSTERDOWN', 'cluster is down'), 503],
    [new RedisReplyError(ErrorCodes.BUSY, 'BUSY', 'a script is running'), 503],
    [new ExecutorClosedError(), 503],
    [new RedisReplyError(ErrorCodes.OUT_OF_MEMORY, 'OOM', 'out of memory'), 507],
    [new ScriptError('set-linked-pod', 'ERR', 'script failed'), 500],
    [new RedisReplyError(ErrorCodes.COMMAND, 'WRONGTYPE', 'wrong type'), 500],
    [new CorruptValueError('sf:{ns:lk:u}room', 'not a pod id'), 500],
    [new UnsupportedError('not here'), 500],
  ])('%s -> %i with its code', (error, status) => {
    const mapped = mapError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.body.error.code).toBe(error.code);
    expect(mapped.body.error.message).toBe(error.message);
    if (error instanceof ValidationError) expect(mapped.body.error.field).toBe('uid');
    else expect(mapped.body.error).not.toHaveProperty('field');
  });

  test('every executor code has a status', () => {
    for (const code of Object.values(ErrorCodes) as ErrorCode[]) {
      expect(STATUS_OF_CODE[code], code).toBeGreaterThanOrEqual(400);
    }
  });

  // Recognised by the brand every package's errors carry, not by the look of the code.
  test.each([
    ['analyzer', new InvalidOptionError('alpha', 'must be in (0, 1)'), 500],
    ['analyzer', new ThresholdSyntaxError('p99<<5ms', 'two comparators'), 500],
    ['metrics', new MetricsOptionsError('buckets', 'must be increasing'), 500],
    ['metrics', new MetricsConflictError('sr_ops_total', 'already registered'), 500],
    ['optimizer', new OptimizerOptionError('rounds', 'must be an integer from 1 to 10'), 500],
    ['reporter', new UnsupportedFormatError('pdf', ['json', 'text']), 500],
    ['reporter', new InvalidReportError('snapshot', 'is not an object'), 500],
    ['server', new UnauthorizedError(), 401],
    ['server', new UnsupportedMediaTypeError('charset=iso-8859-1 is not UTF-8'), 415],
    ['server', new ConfigError('--port', 'is not a port'), 500],
  ])('an error of the %s package keeps its code and message: %s -> %i', (_pkg, error, status) => {
    expect(mapError(error)).toEqual({
      status,
      body: { error: { code: error.code, message: error.message } },
      level: status >= 500 ? 'error' : 'debug',
    });
  });

  test("the server's request validation error names its field", () => {
    expect(mapError(new RequestValidationError('uids[3]', 'must be a string'))).toEqual({
      status: 400,
      body: {
        error: { code: 'SR_VALIDATION', message: 'uids[3]: must be a string', field: 'uids[3]' },
      },
      level: 'debug',
    });
  });

  test('an error branded by another copy of a package is recognised (Symbol.for, no import)', () => {
    class ElsewhereError extends Error {
      readonly code = 'SR_REPORTER_FORMAT';
      get [Symbol.for('stateful-route.error')](): true {
        return true;
      }
    }
    expect(mapError(new ElsewhereError('format "pdf"')).body.error).toEqual({
      code: 'SR_REPORTER_FORMAT',
      message: 'format "pdf"',
    });
  });

  test('a plain Error whose code looks like ours is not ours: a bare 500 SR_INTERNAL', () => {
    for (const code of ['SR_REPORTER_FORMAT', 'SR_VALIDATION', 'SR_REDIS_CONNECTION']) {
      const error = Object.assign(new Error('detail with a user value'), { code });
      expect(mapError(error)).toEqual({
        status: 500,
        body: { error: { code: 'SR_INTERNAL', message: 'internal server error' } },
        level: 'error',
      });
    }
  });

  test('an unexpected error is a bare 500 SR_INTERNAL: no message, no stack', () => {
    const error = new TypeError('secret detail at /srv/app.js:12');
    const mapped = mapError(error);
    expect(mapped).toEqual({
      status: 500,
      body: { error: { code: 'SR_INTERNAL', message: 'internal server error' } },
      level: 'error',
    });
    expect(mapError('a string').status).toBe(500);
    expect(mapError(null).status).toBe(500);
  });
});
