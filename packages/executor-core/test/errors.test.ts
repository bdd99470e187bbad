/**
 * The brand of the stateful-route error family: `isStatefulRouteError` recognises an error of
 * any package by `Symbol.for('stateful-route.error')` (the other packages' errors are tested
 * by tooling/docs, which sees them all), never by the look of its code; `instanceof` on a
 * class stays the plain prototype check.
 */
import {
  AuthError,
  ConnectionError,
  CorruptValueError,
  ERROR_BRAND,
  ErrorCodes,
  ErrorDescriptions,
  ExecutorClosedError,
  RedisReplyError,
  ScriptError,
  StatefulRouteError,
  TimeoutError,
  UnsupportedError,
  ValidationError,
  errorTypeOf,
  isStatefulRouteError,
} from '@stateful-route/executor-core';
import { describe, expect, test } from 'vitest';

describe('the brand', () => {
  test('is the registered symbol every package sets without loading executor-core', () => {
    expect(ERROR_BRAND).toBe(Symbol.for('stateful-route.error'));
  });

  test.each([
    new ValidationError('uid', 'blank', 'must not be blank'),
    new ConnectionError('connection refused'),
    new TimeoutError('command timed out'),
    new AuthError('WRONGPASS', 'Redis refused the password'),
    new RedisReplyError(ErrorCodes.BUSY, 'BUSY', 'a script is running'),
    new ScriptError('set-linked-pod', 'ERR', 'script failed'),
    new CorruptValueError('sf:{ns:lk:u}room', 'not a pod id'),
    new ExecutorClosedError(),
    new UnsupportedError('not here'),
    new StatefulRouteError(ErrorCodes.COMMAND, 'unrecognised failure'),
  ])('every executor error carries it: %s', (error) => {
    expect(isStatefulRouteError(error)).toBe(true);
    expect((error as unknown as Record<symbol, unknown>)[ERROR_BRAND]).toBe(true);
  });

  test('is on the prototype: not an own property, so logs and JSON never show it', () => {
    const error = new ValidationError('uid', 'blank', 'must not be blank');
    expect(Object.getOwnPropertySymbols(error)).toEqual([]);
    expect(JSON.stringify(error)).not.toContain('stateful-route');
  });

  test('an error of another package (or another copy of this one) passes on the brand alone', () => {
    class ElsewhereError extends Error {
      readonly code = 'SR_ELSEWHERE';
      get [Symbol.for('stateful-route.error')](): true {
        return true;
      }
    }
    const error: unknown = new ElsewhereError('from another package');
    expect(isStatefulRouteError(error)).toBe(true);
    if (isStatefulRouteError(error)) expect(error.code).toBe('SR_ELSEWHERE');
  });

  test.each([
    ['a plain Error with an SR_ code', Object.assign(new Error('x'), { code: 'SR_X' })],
    [
      'a plain Error with an executor code',
      Object.assign(new Error('x'), { code: ErrorCodes.VALIDATION }),
    ],
    ['an object that looks like one', { code: 'SR_VALIDATION', message: 'x' }],
    [
      'a brand without a code',
      Object.assign(new Error('x'), { [Symbol.for('stateful-route.error')]: true }),
    ],
    [
      'a brand that is not true',
      Object.assign(new Error('x'), { code: 'SR_X', [Symbol.for('stateful-route.error')]: 1 }),
    ],
    ['a string', 'SR_VALIDATION'],
    ['null', null],
    ['undefined', undefined],
  ])('%s does not pass', (_name, value) => {
    expect(isStatefulRouteError(value)).toBe(false);
  });
});

describe('instanceof stays exact', () => {
  test('a subclass check is the prototype check', () => {
    const validation = new ValidationError('uid', 'blank', 'x');
    const timeout = new TimeoutError('x');
    expect(validation).toBeInstanceOf(ValidationError);
    expect(validation).toBeInstanceOf(StatefulRouteError);
    expect(timeout).not.toBeInstanceOf(ValidationError);
    expect(new AuthError('NOAUTH', 'x')).toBeInstanceOf(RedisReplyError);
  });

  test('StatefulRouteError is executor-core errors only: a branded foreign error is not one', () => {
    const foreign = Object.assign(new Error('x'), {
      code: 'SR_ANALYZER_INVALID_OPTION',
      [Symbol.for('stateful-route.error')]: true,
    });
    expect(isStatefulRouteError(foreign)).toBe(true);
    expect(foreign).not.toBeInstanceOf(StatefulRouteError);
    expect(errorTypeOf(foreign)).toBe('other');
  });
});

test('every code has its description, and nothing else does', () => {
  expect(Object.keys(ErrorDescriptions).sort()).toEqual(Object.values(ErrorCodes).sort());
  for (const { classes, meaning } of Object.values(ErrorDescriptions)) {
    expect(classes.length).toBeGreaterThan(0);
    expect(meaning).not.toMatch(/\n|\|/);
  }
});
