import { availableParallelism } from 'node:os';
import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig, USAGE } from '../src/index.js';

const config = (argv: string[], env: Record<string, string> = {}) => {
  const loaded = loadConfig(argv, env);
  if (loaded.help || loaded.version) throw new Error('unexpected --help or --version');
  return loaded.config;
};

const failure = (argv: string[], env: Record<string, string> = {}): ConfigError => {
  try {
    loadConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('SR_CONFIG');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  test('defaults: loopback, 8080, embedded backend, no auth, 64 KiB, 1000 ids, 1 s timeout', () => {
    expect(config([])).toEqual({
      host: '127.0.0.1',
      port: 8080,
      redisUrl: null,
      redisCluster: null,
      token: null,
      metricsToken: null,
      bodyLimit: 65536,
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
    expect(config([])).toEqual(DEFAULT_CONFIG);
  });

  test('environment variables, and flags winning over them', () => {
    const env = {
      HOST: '0.0.0.0',
      PORT: '9000',
      REDIS_URL: 'redis://127.0.0.1:6390/2',
      STATEFUL_ROUTE_TOKEN: 'env-token-123',
      STATEFUL_ROUTE_METRICS_TOKEN: 'metrics-token-1',
      STATEFUL_ROUTE_BODY_LIMIT: '2048',
      STATEFUL_ROUTE_MAX_BATCH: '10',
      STATEFUL_ROUTE_COMMAND_TIMEOUT_MS: '250',
      STATEFUL_ROUTE_AUTO_PIPELINING: 'off',
      STATEFUL_ROUTE_NEAR_CACHE: 'on',
      STATEFUL_ROUTE_REQUEST_TIMEOUT_MS: '5000',
      STATEFUL_ROUTE_MAX_CONNECTIONS: '200',
      LOG_LEVEL: 'warn',
      STATEFUL_ROUTE_WORKERS: '3',
      STATEFUL_ROUTE_PLACEMENT_SWEEP_MS: '0',
    };
    expect(config([], env)).toEqual({
      host: '0.0.0.0',
      port: 9000,
      redisUrl: 'redis://127.0.0.1:6390/2',
      redisCluster: null,
      token: 'env-token-123',
      metricsToken: 'metrics-token-1',
      bodyLimit: 2048,
      maxBatch: 10,
      commandTimeoutMs: 250,
      autoPipelining: false,
      nearCache: true,
      requestTimeoutMs: 5000,
      maxConnections: 200,
      logLevel: 'warn',
      workers: 3,
      placementSweepMs: 0,
    });
    const flags = config(
      [
        '--port',
        '0',
        '--token=flag-token-456',
        '--max-batch',
        '5',
        '--log-level',
        'silent',
        '--auto-pipelining',
        'on',
        '--request-timeout-ms',
        '100',
        '--max-connections=1',
        '--near-cache',
        'off',
      ],
      env,
    );
    expect(flags).toMatchObject({
      nearCache: false,
      port: 0,
      token: 'flag-token-456',
      maxBatch: 5,
      logLevel: 'silent',
      requestTimeoutMs: 100,
      maxConnections: 1,
    });
    expect(config([], { ...env, PORT: '' }).port).toBe(8080); // empty means unset
  });

  test('--near-cache: on or off, and only with a standalone Redis', () => {
    const redis = ['--redis', 'redis://127.0.0.1:6390'];
    expect(config([...redis, '--near-cache', 'on']).nearCache).toBe(true);
    expect(config([...redis, '--near-cache', 'off']).nearCache).toBe(false);
    expect(() => config([...redis, '--near-cache', 'yes please'])).toThrow(/must be on or off/);
    expect(() => config(['--near-cache', 'on'])).toThrow(/needs --redis/);
    expect(() => config(['--redis-cluster', '127.0.0.1:7000', '--near-cache', 'on'])).toThrow(
      /standalone Redis only/,
    );
    expect(config(['--near-cache', 'off']).nearCache).toBe(false);
  });

  test('cluster seeds', () => {
    expect(
      config(['--redis-cluster', '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002']).redisCluster,
    ).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config([], { REDIS_CLUSTER_NODES: 'redis-0:6379' }).redisCluster).toEqual([
      { host: 'redis-0', port: 6379 },
    ]);
  });

  test.each([
    [['--port', '65536'], '--port'],
    [['--port', '80a'], '--port'],
    [['--port=-1'], '--port'],
    [['--port', '08080'], '--port'],
    [['--redis', 'localhost:6379'], '--redis'],
    [['--redis', 'http://localhost:6379'], '--redis'],
    [['--redis-cluster', 'host'], '--redis-cluster'],
    [['--redis-cluster', 'host:0'], '--redis-cluster'],
    [['--redis-cluster', ','], '--redis-cluster'],
    [['--redis', 'redis://a:1', '--redis-cluster', 'b:2'], 'redis'],
    [['--body-limit', '10'], '--body-limit'],
    [['--max-batch', '0'], '--max-batch'],
    [['--command-timeout-ms', '1.5'], '--command-timeout-ms'],
    [['--log-level', 'loud'], '--log-level'],
    [['--auto-pipelining', 'maybe'], '--auto-pipelining'],
    [['--request-timeout-ms', '99'], '--request-timeout-ms'],
    [['--request-timeout-ms', '30s'], '--request-timeout-ms'],
    [['--request-timeout-ms', '3600001'], '--request-timeout-ms'],
    [['--max-connections', '0'], '--max-connections'],
    [['--max-connections', '1000001'], '--max-connections'],
    [['--max-connections=-5'], '--max-connections'],
    [['--workers', '0', '--redis', 'redis://a:1'], '--workers'],
    [['--workers', '65', '--redis', 'redis://a:1'], '--workers'],
    [['--workers', '2.5', '--redis', 'redis://a:1'], '--workers'],
    [['--workers', 'all', '--redis', 'redis://a:1'], '--workers'],
    [['--workers', '2'], '--workers'],
    [['--host', ' '], '--host'],
    [['--token', 'short'], '--token'],
    [['--token', 'has a space in it'], '--token'],
    [['--nope'], 'argv'],
    [['positional'], 'argv'],
  ])('%j is refused, naming %s', (argv, source) => {
    const error = failure(argv);
    expect(error.source).toBe(source);
    expect(error.message.startsWith(`${source}: `)).toBe(true);
  });

  test('an environment variable is named in the error', () => {
    expect(failure([], { PORT: 'eighty' }).source).toBe('PORT');
    expect(failure([], { STATEFUL_ROUTE_MAX_BATCH: '0' }).source).toBe('STATEFUL_ROUTE_MAX_BATCH');
  });

  test('issue 14: --workers and STATEFUL_ROUTE_WORKERS: 1 to 64 or auto (the available cores); above 1 only with Redis', () => {
    const redis = ['--redis', 'redis://127.0.0.1:6379'];
    expect(config([...redis, '--workers', '4']).workers).toBe(4);
    expect(config([...redis, '--workers=64']).workers).toBe(64);
    expect(config(['--redis-cluster', 'a:1', '--workers', '2']).workers).toBe(2);
    expect(config(['--workers', '1']).workers).toBe(1); // one worker is the plain server
    const auto = config([...redis, '--workers', 'auto']).workers;
    expect(auto).toBe(Math.min(64, availableParallelism()));
    expect(config(redis, { STATEFUL_ROUTE_WORKERS: '2' }).workers).toBe(2);
    expect(config([...redis, '--workers', '5'], { STATEFUL_ROUTE_WORKERS: '2' }).workers).toBe(5);
    expect(failure([], { STATEFUL_ROUTE_WORKERS: 'many' }).source).toBe('STATEFUL_ROUTE_WORKERS');
    const embedded = failure([], { STATEFUL_ROUTE_WORKERS: '2' });
    expect(embedded.message).toContain('needs --redis or --redis-cluster');
    expect(USAGE).toContain('STATEFUL_ROUTE_WORKERS');
  });

  test('a bad token is refused without echoing it', () => {
    const error = failure(['--token', 'sekrit!']);
    expect(error.message).not.toContain('sekrit');
  });

  test('--help', () => {
    expect(loadConfig(['--help'])).toEqual({ help: true });
    expect(loadConfig(['-h'])).toEqual({ help: true });
  });

  test('issue 14: --version and -V ask for the version; the help lists the new flags', () => {
    expect(loadConfig(['--version'])).toEqual({ help: false, version: true });
    expect(loadConfig(['-V'], { PORT: 'not-read' })).toEqual({ help: false, version: true });
    expect(USAGE).toContain('--request-timeout-ms');
    expect(USAGE).toContain('STATEFUL_ROUTE_MAX_CONNECTIONS');
    expect(USAGE).toContain('--version');
  });
});
