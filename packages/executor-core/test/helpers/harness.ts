/**
 * Backends under test and raw access to what they stored. Every suite in this folder runs the
 * same assertions on the memory executor (with a clock the test moves), a standalone Redis
 * and a 3-master Redis Cluster (the servers of the vitest global setup).
 */
import { Cluster, Redis } from 'ioredis';
import { inject } from 'vitest';
import { uniqueNamespace } from '@stateful-route/test-redis';
import {
  createMemoryExecutor,
  createRedisExecutor,
  type MemoryExecutor,
  type RedisClient,
  type RedisExecutor,
  type ScriptTransport,
} from '@stateful-route/executor-core';

export type BackendName = 'memory' | 'standalone' | 'cluster';
export const BACKENDS: readonly BackendName[] = ['memory', 'standalone', 'cluster'];
export const REDIS_BACKENDS: readonly BackendName[] = ['standalone', 'cluster'];

/** A key as Redis would describe it. `ttl` is -1 (none) or a positive number of seconds. */
export interface RawKey {
  type: 'string' | 'hash';
  value: string | Record<string, string>;
  ttl: number;
}

/** Reads (and, on Redis, writes) the keyspace behind an executor, bypassing it. */
export interface RawAccess {
  /** Every key of a namespace (keys starting with `sf:{<ns>:`), sorted, with type/value/ttl. */
  snapshot(ns: string): Promise<Record<string, RawKey>>;
  /** Redis only: writes data as another (Java/Go) service would, with raw commands. */
  client?: RedisClient;
}

/** A manual clock for the memory backend. */
export class FakeClock {
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface Harness {
  backend: BackendName;
  executor: MemoryExecutor | RedisExecutor;
  raw: RawAccess;
  /** Lets TTL time pass: the fake clock on memory, a real wait on Redis. */
  elapse(seconds: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  scriptTransport?: ScriptTransport;
  autoPipelining?: boolean;
  /** Standalone only: serve through the near cache (states, workloads and links). */
  nearCache?: boolean;
}

/** A fresh namespace for one test. */
export function freshNamespace(): string {
  return uniqueNamespace('ec');
}

/** A new ioredis client of the given topology (the caller quits it). */
export function redisClient(
  backend: 'standalone' | 'cluster',
  autoPipelining = false,
): RedisClient {
  if (backend === 'standalone') {
    return new Redis(inject('redisUrl'), { enableAutoPipelining: autoPipelining });
  }
  return new Cluster(inject('clusterSeeds'), { enableAutoPipelining: autoPipelining });
}

/** The masters of a client: itself when standalone. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client as Redis];
}

export async function ready(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Every key of a namespace, with the master that holds it (SCAN on every master). */
async function* namespaceKeys(client: RedisClient, ns: string): AsyncGenerator<[Redis, string]> {
  for (const node of masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(
        cursor,
        'MATCH',
        `sf:{${globEscape(ns)}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      for (const key of keys) yield [node, key];
    } while (cursor !== '0');
  }
}

/** Every key of a namespace on every master, with its DUMP-level content. */
export async function redisSnapshot(
  client: RedisClient,
  ns: string,
): Promise<Record<string, RawKey>> {
  const out: Record<string, RawKey> = {};
  for await (const [node, key] of namespaceKeys(client, ns)) {
    const type = await node.type(key);
    const pttl = await node.pttl(key);
    const value =
      type === 'hash'
        ? await node.hgetall(key)
        : type === 'string'
          ? ((await node.get(key)) as string)
          : `<${type}>`;
    out[key] = {
      type: type as RawKey['type'],
      value,
      ttl: pttl < 0 ? pttl : Math.ceil(pttl / 1000),
    };
  }
  return sortKeys(out);
}

/** Byte-level image of a namespace: DUMP of every key plus whether it has a TTL. */
export async function redisDump(client: RedisClient, ns: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [node, key] of namespaceKeys(client, ns)) {
    const dump = await node.dumpBuffer(key);
    const pttl = await node.pttl(key);
    out[key] = `${dump?.toString('hex')} ttl:${pttl === -1 ? 'none' : pttl > 0 ? 'set' : pttl}`;
  }
  return sortKeys(out);
}

function sortKeys<V>(record: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function memorySnapshot(executor: MemoryExecutor, ns: string): Record<string, RawKey> {
  const prefix = `sf:{${ns}:`;
  const out: Record<string, RawKey> = {};
  for (const [key, entry] of Object.entries(executor.dump())) {
    if (key.startsWith(prefix)) out[key] = { ...entry };
  }
  return sortKeys(out);
}

/** Builds one backend. Redis backends get their own client, quit by `close()`. */
export async function createHarness(
  backend: BackendName,
  options: HarnessOptions = {},
): Promise<Harness> {
  if (backend === 'memory') {
    const clock = new FakeClock();
    const executor = createMemoryExecutor({ clock });
    return {
      backend,
      executor,
      raw: { snapshot: async (ns) => memorySnapshot(executor, ns) },
      elapse: async (seconds) => clock.advance(seconds * 1000),
      close: () => executor.close(),
    };
  }
  const client = redisClient(backend, options.autoPipelining);
  await ready(client);
  const executor = createRedisExecutor({
    redis: client,
    name: `${backend}-test`,
    scriptTransport: options.scriptTransport,
  });
  await executor.loadScripts();
  if (options.nearCache) await executor.enableNearCache();
  return {
    backend,
    executor,
    raw: { snapshot: (ns) => redisSnapshot(client, ns), client },
    // Redis expires a key once its PTTL is reached; a key read after that is gone.
    elapse: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 50)),
    close: async () => {
      await executor.close();
      client.disconnect();
    },
  };
}

// ioredis' MONITOR start can take a monitor line that arrives right after the OK for a reply
// ("Command queue state error"): likely while other connections are busy, such as a near
// cache's heartbeat. A fresh attempt starts clean.
async function startMonitor(host: string | undefined, port: number | undefined): Promise<Redis> {
  for (let attempt = 1; ; attempt++) {
    const base = new Redis({ host, port, lazyConnect: true });
    try {
      return await base.monitor();
    } catch (error) {
      if (attempt >= 3) throw error;
    } finally {
      base.disconnect();
    }
  }
}

/** The commands that one client's connections sent, seen through MONITOR on every master. */
export interface CommandRecorder {
  /** Waits until everything sent before the call was seen, then stops; returns the commands. */
  stop(): Promise<string[][]>;
}

/**
 * Records the commands sent by `client`'s connections (matched by their address on the
 * server), so a test can prove that a call made no round trip although other test files
 * share the same servers.
 */
export async function recordCommands(client: RedisClient): Promise<CommandRecorder> {
  const nodes = masters(client);
  const seen: string[][] = [];
  const monitors: Redis[] = [];
  const pending = new Map<string, () => void>();
  const addresses = new Set<string>();
  for (const node of nodes) {
    const info = (await node.client('INFO')) as string;
    const addr = /(?:^| )addr=(\S+)/.exec(info)?.[1];
    if (!addr) throw new Error(`no addr in CLIENT INFO: ${info}`);
    addresses.add(addr);
    const monitor = await startMonitor(node.options.host, node.options.port);
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!addresses.has(source)) return;
      const marker = args[0]?.toLowerCase() === 'echo' ? args[1] : undefined;
      if (marker !== undefined && pending.has(marker)) {
        pending.get(marker)!();
        pending.delete(marker);
        return;
      }
      seen.push(args);
    });
    monitors.push(monitor);
  }
  return {
    async stop() {
      await Promise.all(
        nodes.map(async (node, i) => {
          const marker = `recorder-fence-${i}-${Math.random()}`;
          const fenced = new Promise<void>((resolve) => pending.set(marker, resolve));
          await node.echo(marker);
          await fenced;
        }),
      );
      for (const monitor of monitors) monitor.disconnect();
      return seen;
    },
  };
}
