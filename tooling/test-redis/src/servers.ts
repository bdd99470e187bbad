import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

/** Thrown when no `redis-server` binary can be found: tests fail, they never skip. */
export class RedisServerMissingError extends Error {
  readonly code = 'TEST_REDIS_MISSING';
  constructor() {
    super(
      'redis-server was not found on the PATH (or in $REDIS_SERVER). Install it: ' +
        '`apt-get update && apt-get install -y redis-server` (Debian/Ubuntu) or ' +
        '`brew install redis` (macOS), then run the tests again.',
    );
    this.name = 'RedisServerMissingError';
  }
}

/** The path of the `redis-server` binary ($REDIS_SERVER or the PATH). */
export function redisServerPath(): string {
  const candidate = process.env.REDIS_SERVER ?? 'redis-server';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new RedisServerMissingError();
  return candidate;
}

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '2mb']`. */
  args?: string[];
  /** Keep an append-only file so data survives `restart()`. Default false. */
  persistent?: boolean;
  /** Internal: cluster mode. */
  cluster?: { nodeTimeoutMs: number };
}

/** One running `redis-server`. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  /** The pid of the current process (changes after `restart()`). */
  pid(): number | undefined;
  /** Whether the process is running. */
  alive(): boolean;
  /** A new ioredis client to this server; the caller quits it. */
  client(): Redis;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). Data files stay until `stop()`. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again on the same port, with the same files. */
  restart(): Promise<void>;
  /** Stops the process and removes its files. */
  stop(): Promise<void>;
}

/** A running Redis Cluster of real processes. */
export interface RedisClusterServer {
  readonly masters: RedisServer[];
  readonly replicas: RedisServer[];
  /** Every node, masters first. */
  readonly nodes: RedisServer[];
  /** Seeds for an ioredis `Cluster`: `[{ host, port }, ...]`. */
  readonly seeds: { host: string; port: number }[];
  /** Waits until every live node reports `cluster_state:ok`. */
  waitForOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Number of masters (at least 3 for a real cluster). Default 3. */
  masters?: number;
  /** Replicas per master. Default 0. */
  replicasPerMaster?: number;
  /** `cluster-node-timeout` in ms; small values make failover tests fast. Default 2000. */
  nodeTimeoutMs?: number;
  /** Extra arguments for every node. */
  args?: string[];
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function waitForPing(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`redis-server on port ${port} exited with ${child.exitCode}:\n${output()}`);
    }
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${output()}`);
}

/** Starts a standalone `redis-server` on a free port, with no persistence unless asked. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = redisServerPath();
  const port = await freePort({ clusterBus: Boolean(options.cluster) });
  const dir = mkdtempSync(path.join(tmpdir(), 'sr-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persistent ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.cluster
      ? [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(options.cluster.nodeTimeoutMs),
          '--cluster-announce-ip',
          '127.0.0.1',
        ]
      : []),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    log = '';
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    proc.once('exit', () => running.delete(proc));
    await waitForPing(port, proc, () => log);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => child?.pid,
    alive: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    client: () => new Redis({ port, host: '127.0.0.1' }),
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function clusterInfo(node: RedisServer): Promise<Record<string, string>> {
  const client = node.client();
  try {
    const text = (await client.call('CLUSTER', 'INFO')) as string;
    return Object.fromEntries(
      text
        .split('\r\n')
        .filter((line) => line.includes(':'))
        .map((line) => line.split(':') as [string, string]),
    );
  } finally {
    client.disconnect();
  }
}

/**
 * Starts a Redis Cluster: `masters` masters with the 16384 slots split between them,
 * `replicasPerMaster` replicas each, and waits for `cluster_state:ok` on every node.
 */
export async function startRedisCluster(
  options: StartClusterOptions = {},
): Promise<RedisClusterServer> {
  const masterCount = options.masters ?? 3;
  const replicaCount = (options.replicasPerMaster ?? 0) * masterCount;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const start = () => startRedis({ cluster: { nodeTimeoutMs }, args: options.args });
  const masters = await Promise.all(Array.from({ length: masterCount }, start));
  const replicas = await Promise.all(Array.from({ length: replicaCount }, start));
  const nodes = [...masters, ...replicas];

  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };

  try {
    const ids = new Map<RedisServer, string>();
    for (const node of nodes) {
      const client = node.client();
      ids.set(node, (await client.call('CLUSTER', 'MYID')) as string);
      client.disconnect();
    }
    const per = Math.floor(16384 / masterCount);
    await Promise.all(
      masters.map(async (node, i) => {
        const first = i * per;
        const last = i === masterCount - 1 ? 16383 : first + per - 1;
        const client = node.client();
        await client.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
        client.disconnect();
      }),
    );
    const first = nodes[0]!;
    const seed = first.client();
    for (const node of nodes.slice(1))
      await seed.call('CLUSTER', 'MEET', node.host, String(node.port));
    seed.disconnect();

    // Every node must know every other before replicas can attach to their masters.
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      for (;;) {
        const info = await clusterInfo(node);
        if (Number(info.cluster_known_nodes) === nodes.length) break;
        if (Date.now() > deadline)
          throw new Error(`cluster node ${node.port} did not meet the others`);
        await sleep(50);
      }
    }
    await Promise.all(
      replicas.map(async (node, i) => {
        const master = masters[i % masterCount]!;
        const client = node.client();
        await client.call('CLUSTER', 'REPLICATE', ids.get(master)!);
        client.disconnect();
      }),
    );

    const cluster: RedisClusterServer = {
      masters,
      replicas,
      nodes,
      seeds: masters.map((node) => ({ host: node.host, port: node.port })),
      waitForOk: async (timeoutMs = 30_000) => {
        const until = Date.now() + timeoutMs;
        for (const node of nodes) {
          if (!node.alive()) continue;
          for (;;) {
            let ok: boolean;
            try {
              ok = (await clusterInfo(node)).cluster_state === 'ok';
            } catch {
              break; // a stopped node cannot answer; the live ones decide
            }
            if (ok) break;
            if (Date.now() > until)
              throw new Error(`cluster node ${node.port} not ok after ${timeoutMs} ms`);
            await sleep(50);
          }
        }
      },
      stop,
    };
    await cluster.waitForOk();
    if (replicaCount > 0) await waitForReplicas(replicas);
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForReplicas(replicas: RedisServer[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const node of replicas) {
    const client = node.client();
    try {
      for (;;) {
        const info = (await client.info('replication')) as string;
        if (info.includes('master_link_status:up')) break;
        if (Date.now() > deadline)
          throw new Error(`replica ${node.port} did not sync with its master`);
        await sleep(50);
      }
    } finally {
      client.disconnect();
    }
  }
}
