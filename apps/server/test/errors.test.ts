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
import { describe, expect, test } from 'vitest';
import { mapError, STATUS_OF_CODE } from '../src/index.js';

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

  test("another package's coded error keeps its code (500)", () => {
    const error = Object.assign(new Error('format "pdf" is not one of json, text'), {
      code: 'SR_REPORTER_FORMAT',
    });
    expect(mapError(error)).toEqual({
      status: 500,
      body: {
        error: { code: 'SR_REPORTER_FORMAT', message: 'format "pdf" is not one of json, text' },
      },
      level: 'error',
    });
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
