/**
 * An unavailable backend is logged once per state change: one warn line when requests start
 * failing (and one per further code in the same outage), one info line when an executor call
 * succeeds again at least a second after the last failure; nothing per request. The backend is
 * a memory executor with one operation replaced by a failing one, so the test controls when
 * and how it fails.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AuthError,
  createMemoryExecutor,
  ErrorCodes,
  RedisReplyError,
  TimeoutError,
} from '@stateful-route/executor-core';
import { expect, test } from 'vitest';
import { buildApp } from '../src/index.js';

test('issue 11 finding 4: an outage is logged once per state change, not once per request', async () => {
  let logs = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  const executor = createMemoryExecutor({ name: 'availability-test' });
  let failure: Error | null = null;
  const setLinkedPod = executor.setLinkedPod.bind(executor);
  executor.setLinkedPod = async (...args) => {
    if (failure) throw failure;
    return setLinkedPod(...args);
  };
  const app = await buildApp({ config: { logLevel: 'info' }, executor, logStream: stream });
  const url = '/v1/namespaces/ns/users/u/links/room';
  const write = () =>
    app.inject({ method: 'PUT', url, payload: { podId: 1, persistSeconds: -1, mode: 'set' } });
  const lines = () =>
    logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; [key: string]: unknown });
  const named = (msg: string) => lines().filter((line) => line.msg === msg);

  expect((await write()).statusCode).toBe(200);
  failure = new TimeoutError('Redis did not answer within the command timeout');
  for (let i = 0; i < 30; i++) expect((await write()).statusCode).toBe(503);
  expect(named('backend unavailable')).toEqual([
    expect.objectContaining({ level: 40, code: 'SR_REDIS_TIMEOUT' }),
  ]);

  // Another code joins the outage: one more line; codes already seen add none.
  failure = new AuthError('WRONGPASS', 'Redis refused the username or password');
  for (let i = 0; i < 10; i++) expect((await write()).statusCode).toBe(503);
  failure = new TimeoutError('Redis did not answer within the command timeout');
  for (let i = 0; i < 5; i++) expect((await write()).statusCode).toBe(503);
  expect(named('backend unavailable').map((line) => line.code)).toEqual([
    'SR_REDIS_TIMEOUT',
    'SR_REDIS_AUTH',
  ]);

  // A success right after a failure does not end the outage (no flapping on partial outages).
  expect((await app.inject(url)).statusCode).toBe(200);
  expect(named('backend available again')).toEqual([]);
  await sleep(1100);
  expect((await app.inject(url)).statusCode).toBe(200);
  expect((await app.inject(url)).statusCode).toBe(200);
  expect(named('backend available again')).toEqual([
    expect.objectContaining({
      level: 30,
      codes: ['SR_REDIS_TIMEOUT', 'SR_REDIS_AUTH'],
      failedRequests: 45,
    }),
  ]);

  // The next outage is a new state change: logged again. 507 (out of memory) is one too.
  failure = new RedisReplyError(ErrorCodes.OUT_OF_MEMORY, 'OOM', 'Redis is out of memory');
  for (let i = 0; i < 5; i++) expect((await write()).statusCode).toBe(507);
  expect(named('backend unavailable').map((line) => line.code)).toEqual([
    'SR_REDIS_TIMEOUT',
    'SR_REDIS_AUTH',
    'SR_REDIS_OOM',
  ]);
  expect(lines().filter((line) => line.level >= 50)).toEqual([]);
  expect(logs).not.toContain('"stack"');
  await app.close();
});
