/**
 * Which target a command talks to: a Redis server (`--redis`), a Redis Cluster
 * (`--redis-cluster`) or a running stateful-route server (`--server`, `--token`), from flags
 * first and then from the environment variables the server itself reads. Connections are
 * made to fail fast: one connect attempt with a timeout, no reconnect, one try per command,
 * so an unreachable target is an exit 3 in seconds rather than a hang.
 */
import { Cluster, Redis } from 'ioredis';
import {
  AuthError,
  ConnectionError,
  parseClusterSeeds,
  redactRedisUrl,
  toExecutorError,
  type RedisClient,
} from '@stateful-route/executor-core';
import { UsageError } from './errors.js';
import { quote } from './parse.js';

/** Where commands send their calls. */
export type Target =
  | { kind: 'redis'; url: string }
  | { kind: 'cluster'; nodes: { host: string; port: number }[] }
  | { kind: 'server'; url: string; token: string | undefined };

/** The target flags, as commander parsed them. */
export interface TargetFlags {
  redis?: string | undefined;
  redisCluster?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
}

/** The target flags and their environment variables, for help and error messages. */
export const TARGET_HELP = `Target (one of; flags win over the environment):
  --redis <url>                 Redis server, e.g. redis://127.0.0.1:6379       (env REDIS_URL)
  --redis-cluster <host:port,…> Redis Cluster seed nodes                        (env REDIS_CLUSTER_NODES)
  --server <url>                a running stateful-route server                 (env STATEFUL_ROUTE_SERVER)
  --token <token>               bearer token for --server                       (env STATEFUL_ROUTE_TOKEN)`;

/**
 * Resolves the target from flags, then from REDIS_URL, REDIS_CLUSTER_NODES and
 * STATEFUL_ROUTE_SERVER (+ STATEFUL_ROUTE_TOKEN).
 * @throws SR_CLI_USAGE when there is none, more than one, or one is malformed (exit 2)
 */
export function resolveTarget(
  flags: TargetFlags,
  env: Readonly<Record<string, string | undefined>>,
): Target {
  const fromFlags = pick(
    { redis: flags.redis, cluster: flags.redisCluster, server: flags.server },
    ['--redis', '--redis-cluster', '--server'],
  );
  const chosen =
    fromFlags ??
    pick(
      {
        redis: nonEmpty(env['REDIS_URL']),
        cluster: nonEmpty(env['REDIS_CLUSTER_NODES']),
        server: nonEmpty(env['STATEFUL_ROUTE_SERVER']),
      },
      ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'STATEFUL_ROUTE_SERVER'],
    );
  if (!chosen) {
    throw new UsageError(`no target given: pass one of the flags below.\n${TARGET_HELP}`, {
      field: 'target',
    });
  }
  if (chosen.kind === 'redis') return { kind: 'redis', url: parseRedisUrl(chosen.value) };
  if (chosen.kind === 'cluster') return { kind: 'cluster', nodes: parseNodes(chosen.value) };
  return {
    kind: 'server',
    url: parseServerUrl(chosen.value),
    token: nonEmpty(flags.token) ?? nonEmpty(env['STATEFUL_ROUTE_TOKEN']),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function pick(
  values: { redis: string | undefined; cluster: string | undefined; server: string | undefined },
  names: [string, string, string],
): { kind: 'redis' | 'cluster' | 'server'; value: string } | undefined {
  const given = (['redis', 'cluster', 'server'] as const)
    .map((kind, i) => ({ kind, value: values[kind], name: names[i]! }))
    .filter(
      (entry): entry is { kind: 'redis' | 'cluster' | 'server'; value: string; name: string } =>
        entry.value !== undefined,
    );
  if (given.length > 1) {
    throw new UsageError(
      `only one target at a time: ${given.map((entry) => entry.name).join(' and ')} were both given`,
      { field: 'target' },
    );
  }
  return given[0];
}

function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--redis: not a URL (got ${quote(value)}); e.g. redis://127.0.0.1:6379`, {
      field: 'redis',
    });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(
      `--redis: must be a redis:// or rediss:// URL (got ${quote(redact(value))})`,
      {
        field: 'redis',
      },
    );
  }
  return value;
}

function parseNodes(value: string): { host: string; port: number }[] {
  try {
    return parseClusterSeeds(value);
  } catch (error) {
    throw new UsageError(
      `--redis-cluster: ${(error as Error).message.replace(/^redisCluster: /, '')}`,
      {
        field: 'redisCluster',
        cause: error,
      },
    );
  }
}

function parseServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--server: not a URL (got ${quote(value)}); e.g. http://127.0.0.1:8080`, {
      field: 'server',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server: must be an http:// or https:// URL (got ${quote(value)})`, {
      field: 'server',
    });
  }
  return url.href.replace(/\/+$/, '');
}

/** A URL with its password replaced, for messages. */
export function redact(value: string): string {
  return redactRedisUrl(value).replace(/\/$/, '');
}

/** A short name of the target for messages (no password). */
export function describeTarget(target: Target): string {
  if (target.kind === 'redis') return redact(target.url);
  if (target.kind === 'cluster') {
    return `cluster ${target.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
  }
  return target.url;
}

/** Timeouts of the CLI's connections. */
export interface ConnectOptions {
  /** One connect attempt, at most this long. */
  connectTimeoutMs: number;
  /** A command without a reply for this long fails with SR_REDIS_TIMEOUT. */
  commandTimeoutMs: number;
}

/** An unconnected ioredis client configured to fail fast. */
export function createClient(
  target: Exclude<Target, { kind: 'server' }>,
  options: ConnectOptions,
): RedisClient {
  // No reconnects and one try per command: a CLI reports a lost Redis, it does not wait for it.
  const redisOptions = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  };
  const client: RedisClient =
    target.kind === 'redis'
      ? new Redis(target.url, redisOptions)
      : new Cluster(target.nodes, {
          lazyConnect: true,
          clusterRetryStrategy: () => null,
          redisOptions: {
            connectTimeout: options.connectTimeoutMs,
            commandTimeout: options.commandTimeoutMs,
            maxRetriesPerRequest: 1,
          },
        });
  // Failures reach the caller through connect() and the commands; without a listener
  // ioredis would also print each one as an "Unhandled error event".
  client.on('error', () => {});
  return client;
}

/**
 * Creates a client and connects it once.
 * @throws SR_REDIS_CONNECTION when the target cannot be reached in time (exit 3)
 * @throws SR_REDIS_AUTH when Redis refuses the credentials of the URL, or their absence (exit 3)
 */
export async function connectRedis(
  target: Exclude<Target, { kind: 'server' }>,
  options: ConnectOptions,
): Promise<RedisClient> {
  const client = createClient(target, options);
  // connect() rejects with a generic "Connection is closed."; the socket's own error, emitted
  // just before, says why (ECONNREFUSED, ETIMEDOUT, ENOTFOUND, NOAUTH ...).
  let last: unknown;
  const remember = (error: unknown) => {
    last = error;
  };
  client.on('error', remember);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const cause = last ?? error;
    // Redis answered, and refused us (NOAUTH, WRONGPASS): the executor's code, not "unreachable".
    const typed = toExecutorError(cause);
    if (typed instanceof AuthError) {
      throw new AuthError(typed.reply, `Redis at ${describeTarget(target)}: ${typed.message}`, {
        cause,
      });
    }
    throw new ConnectionError(
      `cannot reach Redis at ${describeTarget(target)}: ${reasonOf(cause)}`,
      { cause },
    );
  } finally {
    client.off('error', remember);
  }
  return client;
}

function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.message === 'string' && e.message !== '') return e.message;
  return typeof e?.code === 'string' ? e.code : String(error);
}
