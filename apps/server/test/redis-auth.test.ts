/**
 * The built server as a real process on a Redis of its own whose password an operator changes
 * under it: the server's connections are dropped and reconnect with a password that no longer
 * works. Every call must answer 503 `SR_REDIS_AUTH` (Redis unavailable, retry later), not 500,
 * and the log must say so once per state change, not once per request with a stack.
 */
import {
  freePort,
  startRedis,
  uniqueNamespace,
  type RedisServer,
} from '@stateful-route/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, expect, test } from 'vitest';
import { startBuiltServer, type BuiltServer } from './helpers/built-server.js';

let server: BuiltServer | undefined;
let redis: RedisServer | undefined;
let admin: Redis | undefined;

afterAll(async () => {
  if (server && server.child.exitCode === null) await server.stop('SIGKILL');
  admin?.disconnect();
  await redis?.stop();
});

interface Reply {
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  body: unknown;
}

async function call(url: string, method = 'GET', body?: unknown): Promise<Reply> {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? null : JSON.parse(text);
  return {
    status: response.status,
    code: (parsed as { error?: { code?: string } } | null)?.error?.code,
    retryAfter: response.headers.get('retry-after'),
    body: parsed,
  };
}

/** The server's JSON log lines. */
function logLines(output: string): { level: number; msg: string; [key: string]: unknown }[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean) {
  const deadline = Date.now() + 15_000;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe();
  }
  return last;
}

test('issue 11 finding 4: a Redis password changed under the server gives 503 SR_REDIS_AUTH on every route, one warn line, one info line on recovery', async () => {
  redis = await startRedis();
  const port = await freePort();
  // A command timeout longer than ioredis' reconnect back-off (at most 2 s): every queued call
  // is answered by the reconnect's refused AUTH, none times out first.
  server = await startBuiltServer(
    ['--port', String(port), '--log-level', 'info', '--command-timeout-ms', '5000'],
    { REDIS_URL: redis.url },
    port,
  );
  const { url } = server;
  const ns = uniqueNamespace('auth');
  const link = (uid: string) => `${url}/v1/namespaces/${ns}/users/${uid}/links/room`;
  const workload = `${url}/v1/namespaces/${ns}/services/room/workload`;
  const linkBody = { podId: 2, persistSeconds: -1, mode: 'set' };
  expect((await call(link('u1'), 'PUT', linkBody)).status).toBe(200);
  expect((await call(workload, 'PUT', { state: 'w1' })).status).toBe(204);
  expect((await call(link('u1'))).body).toEqual({ podId: 2 });

  // The operator sets a password and drops every client (the admin connection stays: SKIPME).
  admin = redis.client();
  await admin.config('SET', 'requirepass', 'newpass');
  await admin.client('KILL', 'TYPE', 'normal');
  const ready = await until(
    '/readyz',
    () => call(`${url}/readyz`),
    (reply) => reply.status === 503,
  );
  expect(ready.body).toMatchObject({ status: 'unavailable' });

  const replies = {
    'GET link': await call(link('u1')),
    'PUT link (a Lua script)': await call(link('u1'), 'PUT', linkBody),
    'PUT workload': await call(workload, 'PUT', { state: 'w2' }),
  };
  const seen = Object.fromEntries(
    Object.entries(replies).map(([name, reply]) => [
      name,
      `${reply.status} ${reply.code} retry-after ${reply.retryAfter}`,
    ]),
  );
  expect(seen).toEqual({
    'GET link': '503 SR_REDIS_AUTH retry-after 1',
    'PUT link (a Lua script)': '503 SR_REDIS_AUTH retry-after 1',
    'PUT workload': '503 SR_REDIS_AUTH retry-after 1',
  });

  // Many more failing requests, concurrently, on several routes.
  const burst = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? call(link(`u${i}`))
        : i % 3 === 1
          ? call(link(`u${i}`), 'PUT', linkBody)
          : call(workload, 'PUT', { state: `w${i}` }),
    ),
  );
  const statuses = new Set(burst.map((reply) => `${reply.status} ${reply.code}`));
  expect([...statuses]).toEqual(['503 SR_REDIS_AUTH']);

  let lines = logLines(server.output());
  const unavailable = lines.filter((line) => line.msg === 'backend unavailable');
  // 63 failed requests: one line for the state change, with the code and no stack.
  expect(unavailable).toHaveLength(1);
  expect(unavailable[0]).toMatchObject({ level: 40, code: 'SR_REDIS_AUTH' });
  expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  // Besides it, only the client's reconnect errors, which the server logs at most every 10 s.
  expect(
    lines
      .filter((line) => line.level >= 40 && line.msg !== 'backend unavailable')
      .map((line) => line.msg)
      .filter((msg) => !msg.startsWith('Redis connection error: ')),
  ).toEqual([]);
  expect(server.output()).not.toContain('"stack"');
  expect(server.output()).not.toContain('newpass');

  // The operator lifts the password: calls succeed again, and the log says so once.
  await admin.config('SET', 'requirepass', '');
  const lifted = Date.now();
  await until(
    'GET link after the fix',
    () => call(link('u1')),
    (reply) => reply.status === 200,
  );
  const recoveredAfterMs = Date.now() - lifted;
  await until(
    'the recovery log line',
    async () => {
      await call(link('u1'));
      return logLines(server!.output()).filter((line) => line.msg === 'backend available again');
    },
    (found) => found.length > 0,
  );
  expect((await call(link('u1'))).body).toEqual({ podId: 2 });
  expect((await call(`${url}/readyz`)).status).toBe(200);
  lines = logLines(server.output());
  const recovered = lines.filter((line) => line.msg === 'backend available again');
  expect(recovered).toHaveLength(1);
  expect(recovered[0]).toMatchObject({ level: 30, codes: ['SR_REDIS_AUTH'] });
  expect((recovered[0] as { failedRequests?: number }).failedRequests).toBeGreaterThanOrEqual(63);
  expect(lines.filter((line) => line.msg === 'backend unavailable')).toHaveLength(1);
  // Printed for docs/reliability.md.
  console.log(
    `issue 11 finding 4: ${Object.keys(replies).length + burst.length} requests failed with 503 SR_REDIS_AUTH; ` +
      `log: ${unavailable.length} 'backend unavailable' warn line, ${recovered.length} 'backend available again' info line, ` +
      `${lines.filter((line) => line.level >= 40).length} warn-or-above lines in all; ` +
      `200 again ${recoveredAfterMs} ms after the password was lifted`,
  );
  expect((await server.stop()).code).toBe(0);
});
