/**
 * Redis refusing the credentials is an unreachable target (exit 3, `SR_REDIS_AUTH`), whether
 * the CLI talks to Redis itself or through a server whose Redis password was changed under it.
 * A Redis of this file's own: the test sets and changes its password.
 */
import { startRedis, uniqueNamespace, type RedisServer } from '@stateful-route/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers.js';
import { startServer, type TestServer } from './server.js';

let redis: RedisServer;
let admin: Redis;
let server: TestServer | undefined;

beforeAll(async () => {
  redis = await startRedis();
  admin = redis.client();
  await admin.config('SET', 'requirepass', 'rightpass');
});
afterAll(async () => {
  await server?.stop();
  admin?.disconnect();
  await redis?.stop();
});

function errorOf(stderr: string): { code?: string; message?: string } {
  return (JSON.parse(stderr) as { error: { code?: string; message?: string } }).error;
}

describe('issue 11 finding 4: wrong Redis credentials exit 3 with SR_REDIS_AUTH', () => {
  it.each([
    ['a wrong password', (port: number) => `redis://:wrongpass@127.0.0.1:${port}`, 'WRONGPASS'],
    ['no password', (port: number) => `redis://127.0.0.1:${port}`, 'NOAUTH'],
  ])('a direct Redis target with %s', async (_name, url, reply) => {
    const ns = uniqueNamespace('cli-auth');
    const result = await cli([
      'link',
      'get',
      ns,
      'u1',
      'room',
      '--redis',
      url(redis.port),
      '--json',
    ]);
    expect(result.code).toBe(3);
    const error = errorOf(result.stderr);
    expect(error.code).toBe('SR_REDIS_AUTH');
    expect(error.message).toContain(reply);
    expect(error.message).toContain(`127.0.0.1:${redis.port}`);
    expect(result.stderr).not.toContain('wrongpass');
    // Without --json: one line that says what is wrong.
    const text = await cli(['link', 'get', ns, 'u1', 'room', '--redis', url(redis.port)]);
    expect(text.code).toBe(3);
    expect(text.stderr.trim().split('\n')).toHaveLength(1);
    expect(text.stderr).toContain('[SR_REDIS_AUTH]');
  });

  it('a server whose Redis password changed under it answers 503 SR_REDIS_AUTH: exit 3', async () => {
    server = await startServer({
      redisUrl: `redis://:rightpass@127.0.0.1:${redis.port}`,
      // Longer than ioredis' reconnect back-off: queued calls get the AUTH reply, not a timeout.
      args: ['--command-timeout-ms', '5000'],
    });
    const ns = uniqueNamespace('cli-auth');
    const target = ['--server', server.url, '--json'];
    const set = await cli(['link', 'set', ns, 'u1', 'room', '3', ...target]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);

    await admin.config('SET', 'requirepass', 'newpass');
    await admin.client('KILL', 'TYPE', 'normal');
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${server.url}/readyz`)).status !== 503) {
      if (Date.now() > deadline) throw new Error('/readyz never answered 503');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const argv of [
      ['link', 'get', ns, 'u1', 'room'],
      ['link', 'set', ns, 'u1', 'room', '4'],
      ['workload', 'set', ns, 'room', 'w1'],
    ]) {
      const result = await cli([...argv, ...target]);
      expect({ argv, code: result.code, error: errorOf(result.stderr).code }).toEqual({
        argv,
        code: 3,
        error: 'SR_REDIS_AUTH',
      });
    }
  });
});
