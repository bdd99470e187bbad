/**
 * A redis-server of the test file's own, for checks that count server-wide figures
 * (connections, tracking keys) or stall every client (CLIENT PAUSE), which the shared server
 * of the other files must not see. Registers its hooks: call it at the top of the file.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type RedisServer, type StartRedisOptions } from '@stateful-route/test-redis';

export interface OwnRedis {
  /** The server (started before the first test). */
  server(): RedisServer;
  /** A client of it, disconnected after the test. */
  client(options?: Record<string, unknown>): Redis;
  /** Runs `fn` after the test, in reverse order of registration. */
  after(fn: () => Promise<unknown> | void): void;
}

export function ownRedis(options: StartRedisOptions = {}): OwnRedis {
  let server: RedisServer | undefined;
  const cleanup: (() => Promise<unknown> | void)[] = [];
  beforeAll(async () => {
    server = await startRedis(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  return {
    server: () => server!,
    client(options = {}) {
      const redis = new Redis(server!.url, { maxRetriesPerRequest: 3, ...options });
      redis.on('error', () => {});
      cleanup.push(() => redis.disconnect());
      return redis;
    },
    after(fn) {
      cleanup.push(fn);
    },
  };
}
