/**
 * Server configuration from command-line flags and environment variables. Flags win over the
 * environment; anything malformed is a `ConfigError` (exit code 2 in the bin), never a
 * silent default.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseClusterSeeds, type ClusterSeed } from '@stateful-route/executor-core';
import { ConfigError } from './errors.js';

export type { ClusterSeed };

/** Log levels accepted by `--log-level` (pino's, plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The resolved configuration of a server. */
export interface ServerConfig {
  /** Interface to listen on. Default `127.0.0.1`. */
  host: string;
  /** TCP port. Default 8080; 0 picks a free one. */
  port: number;
  /** Standalone Redis URL (`redis://...`, `rediss://...`), or null. */
  redisUrl: string | null;
  /** Redis Cluster seed nodes, or null. Mutually exclusive with `redisUrl`. */
  redisCluster: ClusterSeed[] | null;
  /** Bearer token required on every `/v1` route, or null (open). */
  token: string | null;
  /** Bearer token required on `/metrics`, or null (open). */
  metricsToken: string | null;
  /** Largest accepted request body in bytes. Default 65536 (64 KiB). */
  bodyLimit: number;
  /** Most uids or services in one batch request. Default 1000. */
  maxBatch: number;
  /** The executor's `commandTimeoutMs`: a Redis call fails with SR_REDIS_TIMEOUT after it. */
  commandTimeoutMs: number;
  /**
   * ioredis auto-pipelining: commands issued in the same event-loop tick share one socket
   * write. Default true: with many requests in flight it saves a syscall per command.
   */
  autoPipelining: boolean;
  /**
   * The executor's near cache (standalone Redis only): states, workloads and links read from
   * process memory, invalidated by Redis (client-side caching). Default false: reads then
   * always go to Redis.
   */
  nearCache: boolean;
  /**
   * Longest time a client may take to send a whole request (headers and body), in ms; the
   * connection is then answered 408 SR_REQUEST_TIMEOUT and closed. Default 30 000. The
   * headers alone must arrive within `HEADERS_TIMEOUT_MS` (10 s) or this, whichever is less.
   */
  requestTimeoutMs: number;
  /**
   * Most open connections; the ones above are closed as soon as they are accepted.
   * Default 10 000.
   */
  maxConnections: number;
  /** Log level. Default `info`. */
  logLevel: LogLevel;
  /**
   * Server processes sharing the port (node:cluster workers under a primary that serves no
   * HTTP itself). Default 1: one process, no primary. Above 1 needs Redis: the embedded
   * backend's data would live apart in each worker.
   */
  workers: number;
  /**
   * Interval of the placement sweeper in ms: each run sweeps the dead pods and reconciles the
   * expired claims of every service with placement data (docs/placement.md). Default 5000;
   * 0 turns the sweeper off.
   */
  placementSweepMs: number;
}

/** Most `--workers`: beyond this a host has no use for more processes of one server. */
export const MAX_WORKERS = 64;

/** The defaults, as documented in the README. */
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  redisUrl: null,
  redisCluster: null,
  token: null,
  metricsToken: null,
  bodyLimit: 64 * 1024,
  maxBatch: 1000,
  commandTimeoutMs: 1000,
  autoPipelining: true,
  nearCache: false,
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  logLevel: 'info',
  workers: 1,
  placementSweepMs: 5000,
});

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  token: { type: 'string' },
  'metrics-token': { type: 'string' },
  'body-limit': { type: 'string' },
  'max-batch': { type: 'string' },
  'command-timeout-ms': { type: 'string' },
  'auto-pipelining': { type: 'string' },
  'near-cache': { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'max-connections': { type: 'string' },
  'log-level': { type: 'string' },
  workers: { type: 'string' },
  'placement-sweep-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** The `--help` text of the bin. */
export const USAGE = `Usage: stateful-route-server [options]

Options (flag / environment variable, flags win):
  --host <addr>               HOST                          interface (default 127.0.0.1)
  --port <n>                  PORT                          TCP port (default 8080)
  --redis <url>               REDIS_URL                     standalone Redis
  --redis-cluster <h:p,...>   REDIS_CLUSTER_NODES           Redis Cluster seed nodes
  --token <t>                 STATEFUL_ROUTE_TOKEN          Bearer token for /v1 routes
  --metrics-token <t>         STATEFUL_ROUTE_METRICS_TOKEN  Bearer token for /metrics
  --body-limit <bytes>        STATEFUL_ROUTE_BODY_LIMIT     largest body (default 65536)
  --max-batch <n>             STATEFUL_ROUTE_MAX_BATCH      most ids per batch (default 1000)
  --command-timeout-ms <ms>   STATEFUL_ROUTE_COMMAND_TIMEOUT_MS  Redis command timeout (default 1000)
  --auto-pipelining <on|off>  STATEFUL_ROUTE_AUTO_PIPELINING  ioredis auto-pipelining (default on)
  --near-cache <on|off>       STATEFUL_ROUTE_NEAR_CACHE     near cache of states, workloads, links
                                                            (standalone Redis; default off)
  --request-timeout-ms <ms>   STATEFUL_ROUTE_REQUEST_TIMEOUT_MS  time to receive a whole request (default 30000)
  --max-connections <n>       STATEFUL_ROUTE_MAX_CONNECTIONS  most open connections (default 10000)
  --log-level <level>         LOG_LEVEL                     ${LOG_LEVELS.join('|')} (default info)
  --workers <n|auto>          STATEFUL_ROUTE_WORKERS        processes sharing the port (default 1;
                                                            auto = the host's cores; needs Redis)
  --placement-sweep-ms <ms>   STATEFUL_ROUTE_PLACEMENT_SWEEP_MS  placement sweeper interval
                                                            (default 5000; 0 = off)
  -h, --help                                                this text
  -V, --version                                             the server's version

With neither --redis nor --redis-cluster the server keeps its data in memory (embedded
backend): fine for trying it out, lost on exit.
`;

/** What `loadConfig` found: a configuration, or a request for the help text or the version. */
export type LoadedConfig =
  | { help: true }
  | { help: false; version: true }
  | { help: false; version?: false; config: ServerConfig };

/**
 * Reads the configuration from flags (`argv`, without the node and script paths) and the
 * environment.
 * @example
 * const loaded = loadConfig(process.argv.slice(2), process.env);
 * @throws SR_CONFIG (ConfigError) on an unknown flag or a malformed value
 */
export function loadConfig(
  argv: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = {},
): LoadedConfig {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError('argv', (error as Error).message);
  }
  if (values.help === true) return { help: true };
  if (values.version === true) return { help: false, version: true };

  const pick = (flag: keyof typeof OPTIONS, variable: string): [string, string] | undefined => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return [`--${flag}`, fromFlag];
    const fromEnv = env[variable];
    // An empty variable counts as unset, as shells and compose files often leave them so.
    if (fromEnv !== undefined && fromEnv !== '') return [variable, fromEnv];
    return undefined;
  };

  const config: ServerConfig = { ...DEFAULT_CONFIG };

  const host = pick('host', 'HOST');
  if (host) {
    if (host[1].trim() === '') throw new ConfigError(host[0], 'must not be blank');
    config.host = host[1];
  }
  const port = pick('port', 'PORT');
  if (port) config.port = integer(port, 0, 65535);

  const redis = pick('redis', 'REDIS_URL');
  if (redis) {
    let url: URL;
    try {
      url = new URL(redis[1]);
    } catch {
      throw new ConfigError(redis[0], 'must be a URL such as redis://127.0.0.1:6379');
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ConfigError(redis[0], 'must start with redis:// or rediss://');
    }
    config.redisUrl = redis[1];
  }
  const cluster = pick('redis-cluster', 'REDIS_CLUSTER_NODES');
  if (cluster) config.redisCluster = seeds(cluster);
  if (config.redisUrl && config.redisCluster) {
    throw new ConfigError(
      'redis',
      'set either --redis/REDIS_URL or --redis-cluster/REDIS_CLUSTER_NODES, not both',
    );
  }

  const token = pick('token', 'STATEFUL_ROUTE_TOKEN');
  if (token) config.token = secret(token);
  const metricsToken = pick('metrics-token', 'STATEFUL_ROUTE_METRICS_TOKEN');
  if (metricsToken) config.metricsToken = secret(metricsToken);

  const bodyLimit = pick('body-limit', 'STATEFUL_ROUTE_BODY_LIMIT');
  if (bodyLimit) config.bodyLimit = integer(bodyLimit, 1024, 64 * 1024 * 1024);
  const maxBatch = pick('max-batch', 'STATEFUL_ROUTE_MAX_BATCH');
  if (maxBatch) config.maxBatch = integer(maxBatch, 1, 100_000);
  const timeout = pick('command-timeout-ms', 'STATEFUL_ROUTE_COMMAND_TIMEOUT_MS');
  if (timeout) config.commandTimeoutMs = integer(timeout, 1, 600_000);
  const requestTimeout = pick('request-timeout-ms', 'STATEFUL_ROUTE_REQUEST_TIMEOUT_MS');
  if (requestTimeout) config.requestTimeoutMs = integer(requestTimeout, 100, 3_600_000);
  const maxConnections = pick('max-connections', 'STATEFUL_ROUTE_MAX_CONNECTIONS');
  if (maxConnections) config.maxConnections = integer(maxConnections, 1, 1_000_000);

  const workers = pick('workers', 'STATEFUL_ROUTE_WORKERS');
  if (workers) {
    config.workers =
      workers[1] === 'auto'
        ? Math.min(MAX_WORKERS, availableParallelism())
        : integer(workers, 1, MAX_WORKERS, ' or auto');
    // Each worker would keep its own copy of the data: a link set through one worker would be
    // missing from the next connection's.
    if (config.workers > 1 && !config.redisUrl && !config.redisCluster) {
      throw new ConfigError(
        workers[0],
        'more than one worker needs --redis or --redis-cluster (the embedded backend keeps its data inside each process)',
      );
    }
  }

  const sweep = pick('placement-sweep-ms', 'STATEFUL_ROUTE_PLACEMENT_SWEEP_MS');
  if (sweep) config.placementSweepMs = integer(sweep, 0, 3_600_000, ' (0 turns the sweeper off)');

  const pipelining = pick('auto-pipelining', 'STATEFUL_ROUTE_AUTO_PIPELINING');
  if (pipelining) config.autoPipelining = onOff(pipelining);

  const nearCache = pick('near-cache', 'STATEFUL_ROUTE_NEAR_CACHE');
  if (nearCache) {
    config.nearCache = onOff(nearCache);
    if (config.nearCache && !config.redisUrl) {
      throw new ConfigError(
        nearCache[0],
        config.redisCluster
          ? 'the near cache works on a standalone Redis only (--redis), not on a Cluster'
          : 'the near cache needs --redis (the embedded backend is in memory already)',
      );
    }
  }

  const level = pick('log-level', 'LOG_LEVEL');
  if (level) {
    if (!(LOG_LEVELS as readonly string[]).includes(level[1])) {
      throw new ConfigError(level[0], `must be one of ${LOG_LEVELS.join(', ')}`);
    }
    config.logLevel = level[1] as LogLevel;
  }
  return { help: false, config };
}

function integer(
  [source, text]: [string, string],
  min: number,
  max: number,
  alternatives = '',
): number {
  const rule = `must be a decimal integer from ${min} to ${max}${alternatives}`;
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new ConfigError(source, rule);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(source, rule);
  return value;
}

function seeds([source, text]: [string, string]): ClusterSeed[] {
  try {
    return parseClusterSeeds(text);
  } catch (error) {
    throw new ConfigError(source, (error as Error).message.replace(/^redisCluster: /, ''));
  }
}

// The message never echoes the value: it is a secret.
function secret([source, text]: [string, string]): string {
  if (text.trim() !== text || text.length < 8 || !/^[\x21-\x7e]+$/.test(text)) {
    throw new ConfigError(
      source,
      'must be at least 8 printable ASCII characters without spaces (the value is not shown)',
    );
  }
  return text;
}

// `on`/`off` (or true/false, 1/0) of a flag or variable, by its [name, value].
function onOff([name, raw]: [string, string]): boolean {
  const value = raw.toLowerCase();
  if (['on', 'true', '1'].includes(value)) return true;
  if (['off', 'false', '0'].includes(value)) return false;
  throw new ConfigError(name, 'must be on or off');
}
