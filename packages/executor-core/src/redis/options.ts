/**
 * The options of `createRedisExecutor()` and their checks: run before anything is attached,
 * so that a wrong option is a typed error naming it, and nothing is left behind.
 */
import type { Cluster, Redis } from 'ioredis';
import { ValidationError } from '../errors.js';
import {
  DEFAULT_NEAR_CACHE_ENTRIES,
  DEFAULT_NEAR_CACHE_HEARTBEAT_MS,
  DEFAULT_NEAR_CACHE_NAMESPACES,
  type NearCacheOptions,
} from './near-cache.js';
import type { ScriptTransport } from '../executor.js';

/** An ioredis client: a standalone `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster;

export interface RedisExecutorOptions {
  /**
   * The connection, or several: calls are spread over them round-robin. The caller owns
   * them unless `closeClients` is true.
   */
  redis: RedisClient | readonly RedisClient[];
  /** Name in diagnostics and metric labels. Default `redis`. */
  name?: string;
  /** `evalsha` (default): by SHA, re-sent on NOSCRIPT. `eval`: full text every call. */
  scriptTransport?: ScriptTransport;
  /** Quit the given connections in `close()`. Default false. */
  closeClients?: boolean;
  /**
   * Makes extra connections for `setConnectionCount()`. Connections it makes are owned by the
   * executor and quit when dropped or on `close()`.
   */
  connectionFactory?: () => RedisClient;
  /** Keys per MGET on a standalone server (batch reads are split). Default 500. */
  batchChunkSize?: number;
  /**
   * Serve `getServiceState` and `getWorkloadState` from an in-process cache invalidated by
   * Redis (client-side caching, `CLIENT TRACKING`). Standalone Redis 6+ only.
   * @throws SR_UNSUPPORTED on a Cluster
   */
  nearCache?: NearCacheOptions;
  /**
   * Every call settles within this many ms (SR_REDIS_TIMEOUT after), however long it waited
   * in a queue before being written (auto-pipelining, a reconnect, a cluster re-route).
   * Default: the client's ioredis `commandTimeout`, when it has one; else no bound.
   */
  commandTimeoutMs?: number;
}

/** The bound of `checkHealth()` when neither it nor the executor has one. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

/** Whether a client is an ioredis `Cluster`. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

// An ioredis client, told from anything else without importing ioredis' classes (the
// application may use another copy of ioredis than ours).
function isRedisClient(value: unknown): value is RedisClient {
  const client = value as Partial<Record<'on' | 'off' | 'call' | 'duplicate', unknown>> | null;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.on === 'function' &&
    typeof client.off === 'function' &&
    typeof client.call === 'function' &&
    typeof (client as { status?: unknown }).status === 'string' &&
    typeof (client as { options?: unknown }).options === 'object'
  );
}

const CLIENT_EXPECTED =
  'must be an ioredis client (new Redis(url) or new Cluster(seeds)) or a non-empty array of ' +
  'them; the executor does not make connections from a URL or connection options';

// The options checked before anything is attached, so a wrong one is a typed error naming
// it (not a TypeError from deep inside), and nothing is left behind.
export function checkOptions(options: RedisExecutorOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'type', 'must be an object with a `redis` client');
  }
  const redis: unknown = options.redis;
  const clients: unknown[] = Array.isArray(redis) ? redis : [redis];
  if (clients.length === 0 || !clients.every(isRedisClient)) {
    throw new ValidationError('redis', 'type', CLIENT_EXPECTED);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new ValidationError('name', 'type', 'must be a non-empty string');
  }
  if (options.closeClients !== undefined && typeof options.closeClients !== 'boolean') {
    throw new ValidationError('closeClients', 'type', 'must be a boolean');
  }
  if (options.connectionFactory !== undefined && typeof options.connectionFactory !== 'function') {
    throw new ValidationError('connectionFactory', 'type', 'must be a function returning a client');
  }
  if (
    options.nearCache !== undefined &&
    (typeof options.nearCache !== 'object' || options.nearCache === null)
  ) {
    throw new ValidationError('nearCache', 'type', 'must be an object of near cache options');
  }
  if (options.commandTimeoutMs !== undefined) {
    checkTimeout(options.commandTimeoutMs, 'commandTimeoutMs');
  }
}

export function checkTimeout(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(field, 'range', 'must be a number of ms > 0');
  }
}

export function checkNearCacheOptions(options: NearCacheOptions & { timeoutMs?: number }): void {
  const max = options.maxEntries ?? DEFAULT_NEAR_CACHE_ENTRIES;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new ValidationError('nearCache.maxEntries', 'range', 'must be an integer >= 1');
  }
  const namespaces = options.maxNamespaces ?? DEFAULT_NEAR_CACHE_NAMESPACES;
  if (!Number.isSafeInteger(namespaces) || namespaces < 1 || namespaces > 1024) {
    throw new ValidationError(
      'nearCache.maxNamespaces',
      'range',
      'must be an integer from 1 to 1024',
    );
  }
  const heartbeat = options.heartbeatMs ?? DEFAULT_NEAR_CACHE_HEARTBEAT_MS;
  if (!Number.isFinite(heartbeat) || heartbeat < 10) {
    throw new ValidationError('nearCache.heartbeatMs', 'range', 'must be a number >= 10');
  }
  if (
    options.invalidationConnection !== undefined &&
    typeof options.invalidationConnection !== 'function'
  ) {
    throw new ValidationError(
      'nearCache.invalidationConnection',
      'type',
      'must be a function returning a client',
    );
  }
  if (options.links !== undefined && typeof options.links !== 'boolean') {
    throw new ValidationError('nearCache.links', 'type', 'must be a boolean');
  }
  if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs, 'timeoutMs');
}

// ioredis' own command timeout of a client (a Cluster keeps it in its redisOptions).
export function clientCommandTimeout(client: RedisClient): number | undefined {
  const options = client.options as {
    commandTimeout?: unknown;
    redisOptions?: { commandTimeout?: unknown };
  };
  const timeout = isCluster(client) ? options.redisOptions?.commandTimeout : options.commandTimeout;
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0
    ? timeout
    : undefined;
}

export const NEAR_CACHE_ON_CLUSTER =
  'near cache: not supported on Redis Cluster (client-side caching would need tracking and ' +
  'an invalidation connection per node); use a standalone Redis or leave it off';
