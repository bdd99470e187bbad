/**
 * Redis refusing this client's credentials or permissions is "Redis unavailable" with its own
 * code, `SR_REDIS_AUTH` (`AuthError`), on every path: plain commands, script calls (which used
 * to give `SR_REDIS_SCRIPT`), and commands queued while ioredis reconnects with a password
 * that no longer works (the queue is flushed with the AUTH or ready-check reply). This file
 * starts its own redis-server processes: it changes their passwords and ACLs.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, uniqueNamespace, type RedisServer } from '@stateful-route/test-redis';
import {
  AuthError,
  createRedisExecutor,
  errorTypeOf,
  OPERATIONS,
  toExecutorError,
  type ContractOperationName,
  type RedisExecutor,
  type ScriptTransport,
} from '@stateful-route/executor-core';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A redis-server of this test's own, with `password` set once it answers. */
async function server(password?: string): Promise<RedisServer> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  if (password !== undefined) {
    const admin = redis.client();
    await admin.config('SET', 'requirepass', password);
    admin.disconnect();
  }
  return redis;
}

function client(port: number, options: { username?: string; password?: string } = {}): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, ...options });
  // Reconnect attempts fail with the AUTH reply: ioredis emits each one as an error event.
  redis.on('error', () => {});
  cleanups.push(async () => redis.disconnect());
  return redis;
}

function executor(redis: Redis, scriptTransport: ScriptTransport = 'evalsha'): RedisExecutor {
  const ex = createRedisExecutor({ redis, scriptTransport });
  cleanups.push(() => ex.close());
  return ex;
}

/** One call of every operation of the contract (valid arguments, so each reaches Redis). */
function callOf(
  ex: RedisExecutor,
  ns: string,
): Record<ContractOperationName, () => Promise<unknown>> {
  return {
    setServiceState: () => ex.setServiceState(ns, 'room', 1, 'READY'),
    getServiceState: () => ex.getServiceState(ns, 'room'),
    setWorkloadState: () => ex.setWorkloadState(ns, 'room', 'w'),
    getWorkloadState: () => ex.getWorkloadState(ns, 'room'),
    getWorkloadStateBatch: () => ex.getWorkloadStateBatch(ns, ['room', 'chat']),
    setLinkedPod: () => ex.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 }),
    trySetLinkedPod: () => ex.trySetLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 }),
    setLinkedPodIfAbsent: () =>
      ex.setLinkedPodIfAbsent(ns, 'u2', 'room', { podId: 4, persistSeconds: 60 }),
    getLinkedPod: () => ex.getLinkedPod(ns, 'u1', 'room'),
    getLinkedPodIfPersist: () => ex.getLinkedPodIfPersist(ns, 'u1', 'room'),
    batchGetLinkedPod: () => ex.batchGetLinkedPod(ns, ['u1', 'u2'], 'room'),
    removeLinkedPod: () => ex.removeLinkedPod(ns, 'u9', 'room'),
    removeLinkedPodWithId: () => ex.removeLinkedPodWithId(ns, 'u9', 'room', { podId: 7 }),
    getLinkService: () => ex.getLinkService(ns, 'u1'),
  };
}

/** Sets a password on a running server and drops every client, as an operator rotating it would. */
async function rotatePassword(redis: RedisServer, from: string | undefined, to: string) {
  const admin = client(redis.port, from === undefined ? {} : { password: from });
  await admin.config('SET', 'requirepass', to);
  // SKIPME yes (the default): the admin connection, authenticated before the change, stays.
  await admin.client('KILL', 'TYPE', 'normal');
  return admin;
}

/** Waits until a client has seen its connection drop (new calls then wait in its queue). */
async function untilDisconnected(redis: Redis): Promise<void> {
  const deadline = Date.now() + 5000;
  while (redis.status === 'ready') {
    if (Date.now() > deadline) throw new Error('the client never saw the CLIENT KILL');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function failures(calls: Record<string, () => Promise<unknown>>) {
  const names = Object.keys(calls);
  const settled = await Promise.allSettled(names.map((name) => calls[name]!()));
  return Object.fromEntries(
    settled.map((outcome, i) => {
      if (outcome.status === 'fulfilled') return [names[i]!, 'no error'];
      const error = outcome.reason as { code?: unknown; reply?: unknown };
      return [names[i]!, `${String(error.code)} ${String(error.reply)}`];
    }),
  );
}

describe('issue 11 finding 4: Redis refusing the credentials is SR_REDIS_AUTH, never a 500 code', () => {
  test('a password set under a running client: every operation rejects with SR_REDIS_AUTH (NOAUTH), and works again once it is lifted', async () => {
    const redis = await server();
    const raw = client(redis.port);
    const ex = executor(raw);
    await ex.loadScripts();
    const ns = uniqueNamespace('auth');
    expect(await ex.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 })).toBe(-1);

    const admin = await rotatePassword(redis, undefined, 'newpass');
    await untilDisconnected(raw);
    const calls = callOf(ex, ns);
    const expected = Object.fromEntries(OPERATIONS.map((name) => [name, 'SR_REDIS_AUTH NOAUTH']));
    expect(await failures(calls)).toEqual(expected);

    const error = await ex
      .setLinkedPod(ns, 'u1', 'room', { podId: 5, persistSeconds: -1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'SR_REDIS_AUTH', reply: 'NOAUTH' });
    expect(errorTypeOf(error)).toBe('connection');
    // The cause is ioredis' reply; the message names the problem, not the key or the password.
    expect((error as Error).cause).toMatchObject({ name: 'ReplyError' });
    expect((error as Error).message).not.toContain(ns);
    const health = await ex.checkHealth();
    expect(health.ok).toBe(false);

    // The operator lifts the password: the client's next reconnect attempt succeeds.
    await admin.config('SET', 'requirepass', '');
    const deadline = Date.now() + 10_000;
    let pod: unknown;
    while (Date.now() < deadline) {
      pod = await ex.getLinkedPod(ns, 'u1', 'room').catch((e: unknown) => e);
      if (pod === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pod).toBe(3);
    expect((await ex.checkHealth()).ok).toBe(true);
  });

  test.each(['evalsha', 'eval'] as const)(
    'a rotated password (%s transport): GET, the link script and SET reject with SR_REDIS_AUTH (WRONGPASS)',
    async (transport) => {
      const redis = await server('oldpass');
      const raw = client(redis.port, { password: 'oldpass' });
      const ex = executor(raw, transport);
      await ex.loadScripts();
      const ns = uniqueNamespace('auth');
      await ex.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 });

      await rotatePassword(redis, 'oldpass', 'newpass');
      await untilDisconnected(raw);
      const calls = callOf(ex, ns);
      expect(
        await failures({
          getLinkedPod: calls.getLinkedPod,
          setLinkedPod: calls.setLinkedPod,
          setWorkloadState: calls.setWorkloadState,
        }),
      ).toEqual({
        getLinkedPod: 'SR_REDIS_AUTH WRONGPASS',
        setLinkedPod: 'SR_REDIS_AUTH WRONGPASS',
        setWorkloadState: 'SR_REDIS_AUTH WRONGPASS',
      });
    },
  );

  test('an ACL that denies a command or a key (NOPERM) is SR_REDIS_AUTH too: a credentials problem, not a bad call', async () => {
    const redis = await server();
    const admin = client(redis.port);
    // May run everything but the script commands; may touch every key.
    await admin.call(
      'ACL',
      'SETUSER',
      'noscripts',
      'on',
      '>pw',
      '~*',
      '+@all',
      '-evalsha',
      '-eval',
    );
    // May run everything, but only on keys that are not the executor's.
    await admin.call('ACL', 'SETUSER', 'otherkeys', 'on', '>pw', '~other:*', '+@all');
    const ns = uniqueNamespace('auth');

    const noScripts = executor(client(redis.port, { username: 'noscripts', password: 'pw' }));
    expect(await noScripts.getLinkedPod(ns, 'u1', 'room')).toBe(-1);
    const script = await noScripts
      .setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 })
      .catch((e: unknown) => e);
    expect(script).toMatchObject({ code: 'SR_REDIS_AUTH', reply: 'NOPERM' });
    expect(script).toBeInstanceOf(AuthError);

    const otherKeys = executor(client(redis.port, { username: 'otherkeys', password: 'pw' }));
    const calls = callOf(otherKeys, ns);
    expect(
      await failures({ getLinkedPod: calls.getLinkedPod, setLinkedPod: calls.setLinkedPod }),
    ).toEqual({
      getLinkedPod: 'SR_REDIS_AUTH NOPERM',
      setLinkedPod: 'SR_REDIS_AUTH NOPERM',
    });
  });

  test('while Redis refuses the reconnect, calls fail at once with SR_REDIS_AUTH, not at the command timeout', async () => {
    const redis = await server('oldpass');
    const raw = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      password: 'oldpass',
      commandTimeout: 3000,
    });
    const refused = new Promise<void>((resolve) =>
      raw.on('error', (error: Error) => {
        if (toExecutorError(error).code === 'SR_REDIS_AUTH') resolve();
      }),
    );
    cleanups.push(async () => raw.disconnect());
    const ex = executor(raw);
    const ns = uniqueNamespace('auth');
    await ex.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 });
    await rotatePassword(redis, 'oldpass', 'newpass');
    await refused; // the first reconnect was refused
    const timings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const error = await ex.getLinkedPod(ns, 'u1', 'room').catch((e: unknown) => e);
      timings.push(performance.now() - started);
      expect(error).toMatchObject({ code: 'SR_REDIS_AUTH', reply: 'WRONGPASS' });
    }
    // Each would otherwise wait for the next reconnect attempt (backoff up to 2 s) or 3 s.
    expect(Math.max(...timings)).toBeLessThan(100);
  });

  test('the boundary: auth replies win over the script context; a cluster that fails on AUTH everywhere is SR_REDIS_AUTH', () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    for (const word of ['NOAUTH', 'WRONGPASS', 'NOPERM']) {
      const error = toExecutorError(reply(`${word} refused`), 'set-linked-pod');
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'SR_REDIS_AUTH', reply: word });
    }
    // Other replies inside a script stay script errors.
    expect(toExecutorError(reply('ERR boom'), 'set-linked-pod').code).toBe('SR_REDIS_SCRIPT');
    const allFailed = (last: unknown) =>
      Object.assign(new Error('Failed to refresh slots cache.'), {
        name: 'ClusterAllFailedError',
        lastNodeError: last,
      });
    expect(toExecutorError(allFailed(reply('WRONGPASS invalid password'))).code).toBe(
      'SR_REDIS_AUTH',
    );
    expect(
      toExecutorError(allFailed(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })))
        .code,
    ).toBe('SR_REDIS_CONNECTION');
  });
});
