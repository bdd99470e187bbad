import type {} from '@stateful-route/test-redis/global-setup';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { seededRandom, StalenessChecker, untilSeen } from './helpers/staleness.js';
import { uniqueNamespace } from '@stateful-route/test-redis';
import {
  CHANNELS,
  createRedisExecutor,
  serviceStateKey,
  workloadKey,
  type OperationMessage,
  type RedisExecutor,
} from '@stateful-route/executor-core';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(url = inject('redisUrl'), options: Record<string, unknown> = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, ...options });
  cleanup.push(() => redis.disconnect());
  return redis;
}

async function cachedExecutor(
  options: { maxEntries?: number; data?: Redis; invalidation?: () => Redis } = {},
): Promise<RedisExecutor> {
  const executor = createRedisExecutor({ redis: options.data ?? client(), name: 'near' });
  cleanup.push(() => executor.close());
  await executor.enableNearCache({
    maxEntries: options.maxEntries,
    invalidationConnection: options.invalidation,
  });
  return executor;
}

async function clientIdByName(admin: Redis, name: string): Promise<string> {
  const list = (await admin.client('LIST')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  if (!line) throw new Error(`no client named ${name}`);
  return /id=(\d+)/.exec(line)![1]!;
}

test('a second read is a hit marked cached on the traced message; stats and describe say so', async () => {
  const ns = uniqueNamespace('nc');
  const executor = await cachedExecutor();
  await executor.setServiceState(ns, 'room', 0, 'READY');
  await executor.setWorkloadState(ns, 'room', 'w1');

  const seen: { operation: string; cached: boolean }[] = [];
  const channel = diagnostics.tracingChannel(CHANNELS.operation);
  const handlers = {
    start() {},
    end() {},
    asyncStart() {},
    error() {},
    asyncEnd(message: unknown) {
      const m = message as OperationMessage;
      seen.push({ operation: m.operation, cached: m.cached });
    },
  };
  channel.subscribe(handlers);
  try {
    expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'READY' });
    expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'READY' });
    expect(await executor.getWorkloadState(ns, 'room')).toBe('w1');
    expect(await executor.getWorkloadState(ns, 'room')).toBe('w1');
    expect(await executor.getWorkloadState(ns, 'none')).toBeNull();
    expect(await executor.getWorkloadState(ns, 'none')).toBeNull();
  } finally {
    channel.unsubscribe(handlers);
  }
  expect(seen.map((s) => s.cached)).toEqual([false, true, false, true, false, true]);
  const stats = executor.stats();
  expect(stats.nearCacheHits).toBe(3);
  expect(stats.nearCacheMisses).toBe(3);
  expect(executor.describe().nearCache).toEqual({ enabled: true, maxEntries: 100_000 });

  // A hit hands out a copy: the caller mutating it does not change the cache.
  const mine = await executor.getServiceState(ns, 'room');
  mine[0] = 'MUTATED';
  expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'READY' });

  await executor.disableNearCache();
  expect(executor.describe().nearCache).toEqual({ enabled: false, maxEntries: 100_000 });
  expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'READY' });
  expect(executor.stats().nearCacheHits).toBe(stats.nearCacheHits + 2);
});

test('broadcast tracking: Redis keeps prefixes of the namespaces read, not keys', async () => {
  const ns = uniqueNamespace('nc');
  const admin = client();
  const data = client();
  const executor = await cachedExecutor({ data });
  await executor.loadScripts();
  const trackedKeys = async () =>
    Number(/tracking_total_keys:(\d+)/.exec((await admin.info('stats')) as string)![1]);
  const before = await trackedKeys();
  for (let i = 0; i < 20; i++)
    await executor.setLinkedPodIfAbsent(ns, `u${i}`, 'room', { podId: 1, persistSeconds: 300 });
  for (let i = 0; i < 20; i++) await executor.getLinkedPod(ns, `u${i}`, 'room');
  for (let i = 0; i < 20; i++) await executor.getServiceState(ns, `room${i}`);
  expect(await trackedKeys()).toBeLessThanOrEqual(before);
  // The first connection tracks the namespace's state, workload and link prefixes, redirected.
  const info = (await data.call('CLIENT', 'TRACKINGINFO')) as unknown[];
  const flags = info[1] as string[];
  const prefixes = info[5] as string[];
  expect(flags).toEqual(expect.arrayContaining(['on', 'bcast']));
  expect(prefixes).toEqual(
    expect.arrayContaining([`sf:{${ns}:state:`, `sf:{${ns}:workload:`, `sf:{${ns}:lk:`]),
  );
});

test('namespaces past maxNamespaces are read from Redis every time', async () => {
  const executor = createRedisExecutor({ redis: client(), name: 'near' });
  cleanup.push(() => executor.close());
  await executor.enableNearCache({ maxNamespaces: 2 });
  const [a, b, c] = [uniqueNamespace('nc'), uniqueNamespace('nc'), uniqueNamespace('nc')];
  for (const ns of [a, b, c]) {
    await executor.getWorkloadState(ns, 'room');
    await executor.getWorkloadState(ns, 'room');
  }
  const { nearCacheHits: hits, nearCacheMisses: misses } = executor.stats();
  expect(hits).toBe(2); // the second reads of a and b
  expect(misses).toBe(4);
  await executor.getWorkloadState(c, 'room');
  expect(executor.stats().nearCacheHits).toBe(2);
});

test('concurrent misses of one key share one read', async () => {
  const ns = uniqueNamespace('nc');
  const executor = await cachedExecutor();
  await executor.setServiceState(ns, 'room', 2, 'S');
  const before = executor.stats();
  const results = await Promise.all(
    Array.from({ length: 10 }, () => executor.getServiceState(ns, 'room')),
  );
  expect(results).toEqual(Array.from({ length: 10 }, () => ({ 2: 'S' })));
  results[0]![2] = 'mutated'; // each caller has its own copy
  expect(results[1]).toEqual({ 2: 'S' });
  expect(executor.stats().nearCacheMisses - before.nearCacheMisses).toBe(1);
  expect(executor.stats().nearCacheHits - before.nearCacheHits).toBe(9);
});

test('own writes invalidate at once (read your writes)', async () => {
  const ns = uniqueNamespace('nc');
  const executor = await cachedExecutor();
  await executor.setServiceState(ns, 'room', 0, 'A');
  expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'A' });
  for (let i = 0; i < 50; i++) {
    await executor.setServiceState(ns, 'room', 0, `S${i}`);
    expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: `S${i}` });
    await executor.setWorkloadState(ns, 'room', `W${i}`);
    expect(await executor.getWorkloadState(ns, 'room')).toBe(`W${i}`);
  }
});

test('a raw writer (another client, like a Java service) is seen within 100 ms of its ack', async () => {
  const ns = uniqueNamespace('nc');
  const executor = await cachedExecutor();
  const writer = client();
  const stateKey = serviceStateKey(ns, 'room');
  const loadKey = workloadKey(ns, 'room');
  await writer.hset(stateKey, '0', 'v0');
  await writer.set(loadKey, 'w0');
  let worst = 0;
  for (let i = 1; i <= 30; i++) {
    // Warm: the entry is cached before the write.
    await executor.getServiceState(ns, 'room');
    await executor.getWorkloadState(ns, 'room');
    await writer.hset(stateKey, '0', `v${i}`);
    await writer.set(loadKey, `w${i}`);
    worst = Math.max(
      worst,
      await untilSeen(() => executor.getServiceState(ns, 'room'), { 0: `v${i}` }),
      await untilSeen(() => executor.getWorkloadState(ns, 'room'), `w${i}`),
    );
  }
  expect(executor.stats().nearCacheHits).toBeGreaterThan(0);
  expect(executor.stats().nearCacheInvalidations).toBeGreaterThanOrEqual(60);
  // A DEL and a FLUSH-like removal are invalidations too.
  await writer.del(stateKey);
  await untilSeen(() => executor.getServiceState(ns, 'room'), {});
  console.log(`near cache: worst delay until a raw write was seen: ${worst.toFixed(2)} ms`);
});

/**
 * A TCP proxy that can hold the bytes Redis sends to the client, so that a reply can be kept
 * in flight while something else happens.
 */
async function holdingProxy(port: number): Promise<{
  port: number;
  hold(): void;
  held(): Promise<void>;
  release(): void;
  close(): void;
}> {
  let holding = false;
  let queue: { socket: net.Socket; chunk: Buffer }[] = [];
  let onHeld: (() => void) | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((downstream) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(downstream).add(upstream);
    downstream.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (holding) {
        queue.push({ socket: downstream, chunk });
        onHeld?.();
      } else downstream.write(chunk);
    });
    const end = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    hold() {
      holding = true;
    },
    held() {
      return new Promise<void>((resolve) => {
        if (queue.length > 0) resolve();
        else onHeld = resolve;
      });
    },
    release() {
      holding = false;
      for (const { socket, chunk } of queue) socket.write(chunk);
      queue = [];
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

test('a read in flight when its invalidation arrives does not store the stale reply', async () => {
  const ns = uniqueNamespace('nc');
  const redisPort = Number(new URL(inject('redisUrl')).port);
  const proxy = await holdingProxy(redisPort);
  cleanup.push(() => proxy.close());
  // Data through the proxy; the invalidation connection straight to Redis.
  const data = client(`redis://127.0.0.1:${proxy.port}`);
  const executor = await cachedExecutor({ data, invalidation: () => client() });
  const writer = client();
  const key = serviceStateKey(ns, 'room');
  await writer.hset(key, '0', 'old');
  await executor.getServiceState(ns, 'warm'); // the namespace is tracked from here on

  proxy.hold();
  const read = executor.getServiceState(ns, 'room');
  await proxy.held(); // Redis has run the read (and tracks the key); the reply is held.
  const invalidations = executor.stats().nearCacheInvalidations;
  await writer.hset(key, '0', 'new');
  const deadline = performance.now() + 1000;
  while (executor.stats().nearCacheInvalidations === invalidations) {
    if (performance.now() > deadline) throw new Error('no invalidation arrived');
    await sleep(1);
  }
  proxy.release();
  expect(await read).toEqual({ 0: 'old' }); // the answer of its time, returned once...
  const misses = executor.stats().nearCacheMisses;
  expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'new' }); // ...never cached
  expect(executor.stats().nearCacheMisses).toBe(misses + 1);
  expect(await executor.getServiceState(ns, 'room')).toEqual({ 0: 'new' });
  expect(executor.stats().nearCacheMisses).toBe(misses + 1); // and the fresh value is
});

test('a read starting after an invalidation does not share a read sent before it', async () => {
  const ns = uniqueNamespace('nc');
  const proxy = await holdingProxy(Number(new URL(inject('redisUrl')).port));
  cleanup.push(() => proxy.close());
  const data = client(`redis://127.0.0.1:${proxy.port}`);
  const executor = await cachedExecutor({ data, invalidation: () => client() });
  const writer = client();
  await writer.set(workloadKey(ns, 'room'), 'old');
  await executor.getWorkloadState(ns, 'warm'); // the namespace is tracked from here on
  proxy.hold();
  const first = executor.getWorkloadState(ns, 'room');
  await proxy.held();
  const invalidations = executor.stats().nearCacheInvalidations;
  await writer.set(workloadKey(ns, 'room'), 'new');
  const deadline = performance.now() + 1000;
  while (executor.stats().nearCacheInvalidations === invalidations) {
    if (performance.now() > deadline) throw new Error('no invalidation arrived');
    await sleep(1);
  }
  const later = executor.getWorkloadState(ns, 'room');
  const concurrent = executor.getWorkloadState(ns, 'room'); // may share `later`'s read
  proxy.release();
  expect(await first).toBe('old');
  expect(await later).toBe('new');
  expect(await concurrent).toBe('new');
  expect(await executor.getWorkloadState(ns, 'room')).toBe('new');
});

test('an invalidation connection that goes silent (no FIN) stops serving within the lease', async () => {
  const ns = uniqueNamespace('nc');
  const proxy = await holdingProxy(Number(new URL(inject('redisUrl')).port));
  cleanup.push(() => proxy.close());
  const executor = createRedisExecutor({ redis: client(), name: 'near-lease' });
  cleanup.push(() => executor.close());
  // Invalidations (and PONGs) through the proxy; data straight to Redis.
  await executor.enableNearCache({
    heartbeatMs: 50,
    invalidationConnection: () => client(`redis://127.0.0.1:${proxy.port}`),
  });
  const writer = client();
  await writer.set(workloadKey(ns, 'room'), 'v1');
  await executor.getWorkloadState(ns, 'room');
  expect(await executor.getWorkloadState(ns, 'room')).toBe('v1');
  const hits = executor.stats().nearCacheHits;
  expect(hits).toBeGreaterThan(0);

  proxy.hold(); // the invalidation of the next write, and every PONG, are stuck
  await writer.set(workloadKey(ns, 'room'), 'v2');
  // Served stale at most until the lease (3 x 50 ms since the last answered PING) runs out,
  // well before the connection is dropped for silence (10 x 50 ms).
  const waited = await untilSeen(() => executor.getWorkloadState(ns, 'room'), 'v2', 350);
  const misses = executor.stats().nearCacheMisses;
  await executor.getWorkloadState(ns, 'room');
  expect(executor.stats().nearCacheMisses).toBe(misses + 1); // not served while silent
  proxy.release();
  // Back: PONGs renew the lease and caching resumes.
  const deadline = performance.now() + 5000;
  let resumed = false;
  while (!resumed && performance.now() < deadline) {
    expect(await executor.getWorkloadState(ns, 'room')).toBe('v2');
    resumed = executor.stats().nearCacheHits > hits;
    if (!resumed) await sleep(10);
  }
  expect(resumed).toBe(true);
  console.log(`near cache: stale reads ended ${waited.toFixed(0)} ms after a silent loss`);
});

test('randomized: concurrent raw writers and readers never see a value older than the last ack by more than the bound', async () => {
  const ns = uniqueNamespace('nc');
  const executor = createRedisExecutor({
    redis: [client(), client()],
    name: 'near-random',
  });
  cleanup.push(() => executor.close());
  await executor.enableNearCache({ maxEntries: 3 }); // small: eviction happens too
  const writers = [client(), client()];
  const services = ['s0', 's1', 's2', 's3'];
  const boundMs = 100;
  const checker = new StalenessChecker(services, boundMs);
  for (const svc of services) await writers[0]!.set(workloadKey(ns, svc), '0');
  let version = 0;
  const random = seededRandom(42);
  const until = performance.now() + 1500;
  let reads = 0;

  // Each writer owns half of the services: the versions of one key are written in order.
  const writerLoop = async (writer: Redis, index: number) => {
    const own = services.filter((_, i) => i % writers.length === index);
    while (performance.now() < until) {
      const svc = own[Math.floor(random() * own.length)]!;
      const v = ++version;
      await writer.set(workloadKey(ns, svc), String(v));
      checker.acked(svc, v);
      await sleep(random() * 5);
    }
  };
  const readerLoop = async () => {
    while (performance.now() < until) {
      const svc = services[Math.floor(random() * services.length)]!;
      const started = performance.now();
      checker.read(svc, started, Number(await executor.getWorkloadState(ns, svc)));
      reads++;
      if (random() < 0.3) await sleep(0);
    }
  };
  await Promise.all([
    ...writers.map((w, i) => writerLoop(w, i)),
    ...Array.from({ length: 8 }, readerLoop),
  ]);
  const stats = executor.stats();
  console.log(
    `randomized: ${reads} reads, ${version} raw writes, hits ${stats.nearCacheHits}, ` +
      `misses ${stats.nearCacheMisses}, invalidations ${stats.nearCacheInvalidations}`,
  );
  expect(checker.violations).toEqual([]);
  expect(stats.nearCacheHits).toBeGreaterThan(100);
  expect(stats.nearCacheInvalidations).toBeGreaterThan(10);
  // After the writers stop, every service reads its last acknowledged version.
  for (const svc of services) {
    const last = String(checker.last(svc));
    await untilSeen(() => executor.getWorkloadState(ns, svc), last);
  }
});

describe('connection loss', () => {
  test('killing the invalidation connection drops the cache until it is back and tracking again', async () => {
    const ns = uniqueNamespace('nc');
    const admin = client();
    const name = `inv-${ns}`.replace(/[^a-zA-Z0-9-]/g, '-');
    const executor = await cachedExecutor({
      invalidation: () => client(inject('redisUrl'), { connectionName: name }),
    });
    const states: string[] = [];
    const listener = (message: unknown) => {
      const m = message as { executor: string; connection: string; state: string };
      if (m.executor === 'near' && m.connection === 'invalidation') states.push(m.state);
    };
    diagnostics.subscribe(CHANNELS.connection, listener);
    cleanup.push(() => {
      diagnostics.unsubscribe(CHANNELS.connection, listener);
    });

    await executor.setWorkloadState(ns, 'room', 'before');
    await executor.getWorkloadState(ns, 'room');
    await executor.getWorkloadState(ns, 'room');
    const hits = executor.stats().nearCacheHits;
    expect(hits).toBeGreaterThan(0);

    const oldId = await clientIdByName(admin, name);
    await admin.client('KILL', 'ID', oldId);
    // While it is down nothing is served from the cache, and a raw write is seen at once.
    await admin.set(workloadKey(ns, 'room'), 'during');
    expect(await executor.getWorkloadState(ns, 'room')).toBe('during');
    expect(executor.stats().nearCacheHits).toBe(hits);

    // It comes back (ioredis reconnects), with a new id, and caching resumes.
    const deadline = performance.now() + 5000;
    let newId = oldId;
    while (newId === oldId) {
      if (performance.now() > deadline) throw new Error('invalidation connection not back');
      await sleep(20);
      newId = await clientIdByName(admin, name).catch(() => oldId);
    }
    let resumed = false;
    while (!resumed && performance.now() < deadline) {
      await executor.getWorkloadState(ns, 'room');
      resumed = executor.stats().nearCacheHits > hits;
      if (!resumed) await sleep(10);
    }
    expect(resumed).toBe(true);
    expect(states).toContain('close');
    expect(states).toContain('ready');
    // And invalidations reach the new connection: the data connection redirects to its id.
    const tracking = (await admin.client('LIST')) as string;
    expect(tracking).toContain(`id=${newId} `);
    await admin.set(workloadKey(ns, 'room'), 'after');
    await untilSeen(() => executor.getWorkloadState(ns, 'room'), 'after');
  });

  test('killing a data connection drops the cache and re-enables tracking on reconnect', async () => {
    const ns = uniqueNamespace('nc');
    const admin = client();
    const name = `data-${ns}`.replace(/[^a-zA-Z0-9-]/g, '-');
    const data = client(inject('redisUrl'), { connectionName: name });
    const executor = await cachedExecutor({ data });
    await executor.setServiceState(ns, 'room', 1, 'A');
    await executor.getServiceState(ns, 'room');
    await executor.getServiceState(ns, 'room');
    const hits = executor.stats().nearCacheHits;
    expect(hits).toBe(1);

    await admin.client('KILL', 'ID', await clientIdByName(admin, name));
    await admin.hset(serviceStateKey(ns, 'room'), '1', 'B');
    // The kill dropped the cache: B is read from Redis.
    await untilSeen(() => executor.getServiceState(ns, 'room'), { 1: 'B' }, 2000);
    // Tracking is on again after the reconnect: entries are cached and invalidated.
    const deadline = performance.now() + 5000;
    while (executor.stats().nearCacheHits === hits && performance.now() < deadline) {
      await executor.getServiceState(ns, 'room');
      await sleep(5);
    }
    expect(executor.stats().nearCacheHits).toBeGreaterThan(hits);
    await admin.hset(serviceStateKey(ns, 'room'), '1', 'C');
    await untilSeen(() => executor.getServiceState(ns, 'room'), { 1: 'C' });
  });
});

test('bounded: past maxEntries, an entry not read since the last pass is evicted, a read one kept', async () => {
  const ns = uniqueNamespace('nc');
  const executor = await cachedExecutor({ maxEntries: 3 });
  for (const svc of ['a', 'b', 'c']) await executor.getWorkloadState(ns, svc);
  await executor.getWorkloadState(ns, 'a'); // a is now the most recent: b is the oldest
  const { nearCacheHits: hits, nearCacheMisses: misses } = executor.stats();
  await executor.getWorkloadState(ns, 'd'); // evicts b
  await executor.getWorkloadState(ns, 'a');
  await executor.getWorkloadState(ns, 'c');
  await executor.getWorkloadState(ns, 'b');
  expect(executor.stats().nearCacheHits - hits).toBe(2);
  expect(executor.stats().nearCacheMisses - misses).toBe(2);
  expect(executor.describe().nearCache).toEqual({ enabled: true, maxEntries: 3 });
});

test('bounded: a key read between cold reads keeps its entry; cold keys past maxEntries go', async () => {
  const ns = uniqueNamespace('nc');
  const executor = await cachedExecutor({ maxEntries: 3 });
  await executor.getWorkloadState(ns, 'hot');
  const { nearCacheHits: hits, nearCacheMisses: misses } = executor.stats();
  for (let i = 0; i < 20; i++) {
    await executor.getWorkloadState(ns, `cold-${i}`);
    await executor.getWorkloadState(ns, 'hot');
  }
  expect(executor.stats().nearCacheHits - hits).toBe(20);
  // At most 3 entries: the hot one and the last two cold ones; the rest were evicted.
  for (let i = 0; i < 18; i++) await executor.getWorkloadState(ns, `cold-${i}`);
  expect(executor.stats().nearCacheMisses - misses).toBe(20 + 18);
});

test('connections added at run time are tracked before they serve cached reads', async () => {
  const ns = uniqueNamespace('nc');
  const executor = createRedisExecutor({
    redis: client(),
    connectionFactory: () => client(),
    nearCache: {},
  });
  cleanup.push(() => executor.close());
  await executor.setConnectionCount(3);
  const writer = client();
  await writer.set(workloadKey(ns, 'room'), 'x0');
  for (let i = 1; i <= 10; i++) {
    for (let r = 0; r < 6; r++) await executor.getWorkloadState(ns, 'room');
    await writer.set(workloadKey(ns, 'room'), `x${i}`);
    await untilSeen(() => executor.getWorkloadState(ns, 'room'), `x${i}`);
  }
  expect(executor.stats().nearCacheHits).toBeGreaterThan(20);
  await executor.setConnectionCount(1);
  expect(executor.describe().connections).toBe(1);
});

test('refused on a Cluster with SR_UNSUPPORTED', async () => {
  const cluster = new Cluster(inject('clusterSeeds'));
  cleanup.push(() => cluster.disconnect());
  expect(() => createRedisExecutor({ redis: cluster, nearCache: {} })).toThrow(
    expect.objectContaining({ code: 'SR_UNSUPPORTED' }),
  );
  const executor = createRedisExecutor({ redis: cluster });
  cleanup.push(() => executor.close());
  await expect(executor.enableNearCache()).rejects.toMatchObject({
    code: 'SR_UNSUPPORTED',
    message: expect.stringContaining('Cluster'),
  });
  expect(executor.describe().nearCache).toBeNull();
});

test('rejects a bad maxEntries or heartbeatMs', async () => {
  const executor = createRedisExecutor({ redis: client() });
  cleanup.push(() => executor.close());
  await expect(executor.enableNearCache({ maxEntries: 0 })).rejects.toMatchObject({
    code: 'SR_VALIDATION',
  });
  await expect(executor.enableNearCache({ heartbeatMs: 1 })).rejects.toMatchObject({
    code: 'SR_VALIDATION',
  });
  expect(executor.nearCacheEnabled).toBe(false);
});
