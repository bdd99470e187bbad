/**
 * Builds the executor the configuration asks for: Redis standalone (`--redis`), Redis
 * Cluster (`--redis-cluster`), or the embedded memory backend when neither is set.
 */
import {
  createMemoryExecutor,
  createRedisExecutor,
  redactRedisUrl,
  type RedisClient,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ServerConfig } from './config.js';

/** An executor the server created, with the clients it owns (none for memory). */
export interface Backend {
  executor: StatefulExecutor;
  /**
   * The client for Redis INFO figures (`/metrics`, the analyzer, reports): a connection of
   * its own with ioredis' `commandTimeout`, so that a scrape never queues behind request
   * traffic and a stalled Redis fails it in time. Null on the memory backend. The executor's
   * clients have no `commandTimeout`: the executor bounds every command itself
   * (`commandTimeoutMs`), at a fifth of the CPU (executor-core's deadline.ts).
   */
  redis: RedisClient | null;
  /** One line for the start-up log: which backend, where. Never contains credentials. */
  summary: string;
}

/**
 * Builds the backend of `config`. The executor owns its clients and quits them on close; the
 * INFO client (`redis`) is the caller's to disconnect. `onClientError` receives the clients'
 * connection errors (ioredis prints them to stderr when nobody listens).
 */
export function createBackend(
  config: ServerConfig,
  name = 'server',
  onClientError: (error: Error) => void = () => {},
): Backend {
  const redisOptions: RedisOptions = {
    connectionName: 'stateful-route-server',
    enableAutoPipelining: config.autoPipelining,
  };
  const infoOptions: RedisOptions = {
    // An INFO waiting longer than this fails, and the figures are reported as stale.
    commandTimeout: config.commandTimeoutMs,
    connectionName: 'stateful-route-server-info',
  };
  // A call waiting longer than this (queued while disconnected included) fails with
  // SR_REDIS_TIMEOUT, so requests fail fast during an outage instead of hanging.
  const commandTimeoutMs = config.commandTimeoutMs;
  if (config.redisUrl) {
    const url = config.redisUrl;
    const make = () => new Redis(url, redisOptions).on('error', onClientError);
    return {
      executor: createRedisExecutor({
        redis: make(),
        name,
        closeClients: true,
        connectionFactory: make,
        commandTimeoutMs,
        // Activates once Redis answers; until then reads go to Redis.
        ...(config.nearCache ? { nearCache: {} } : {}),
      }),
      redis: new Redis(url, infoOptions).on('error', onClientError),
      summary: `Redis standalone at ${redactUrl(url)}${config.nearCache ? ', near cache on' : ''}`,
    };
  }
  if (config.redisCluster) {
    const seeds = config.redisCluster;
    const make = () =>
      new Cluster(seeds, {
        redisOptions,
        enableAutoPipelining: config.autoPipelining,
      }).on('error', onClientError);
    return {
      executor: createRedisExecutor({
        redis: make(),
        name,
        closeClients: true,
        connectionFactory: make,
        commandTimeoutMs,
      }),
      redis: new Cluster(seeds, { redisOptions: infoOptions }).on('error', onClientError),
      summary: `Redis Cluster with seeds ${seeds.map((s) => `${s.host}:${s.port}`).join(',')}`,
    };
  }
  return {
    executor: createMemoryExecutor({ name }),
    redis: null,
    summary:
      'embedded in-memory backend (no --redis or --redis-cluster given): data lives in this process and is lost on exit',
  };
}

/** The URL without its password, for logs (executor-core's one redaction). */
export const redactUrl = redactRedisUrl;
