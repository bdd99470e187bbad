import { createRedisExecutor, parseRedisInfo } from '@stateful-route/executor-core';
import {
  freePort,
  startRedis,
  uniqueNamespace,
  type RedisServer,
} from '@stateful-route/test-redis';
import { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { instrumentExecutor, type InstrumentOptions } from '../src/index.js';
import { parseExposition, samplesOf, valueOf } from './helpers/exposition.js';

const P = 'stateful_executor_';
const cleanups: (() => unknown)[] = [];
function instrument(options: InstrumentOptions): () => void {
  const dispose = instrumentExecutor(options);
  cleanups.push(dispose);
  return dispose;
}
function later<T extends { quit(): Promise<unknown> } | { disconnect(): void }>(client: T): T {
  cleanups.push(() => ('quit' in client ? client.quit().catch(() => {}) : client.disconnect()));
  return client;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scrape(registry: Registry) {
  return parseExposition(await registry.metrics());
}

function statuses(m: ReturnType<typeof parseExposition>, extra: Record<string, string> = {}) {
  return Object.fromEntries(
    samplesOf(m, `${P}redis_connection_status`)
      .filter((s) => Object.entries(extra).every(([k, v]) => s.labels[k] === v))
      .map((s) => [s.labels.status, s.value]),
  );
}

// A server of this file's own: it flushes the script cache and pauses clients.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('Redis executor', () => {
  it('counts operations, script loads, NOSCRIPT reloads, the script ratio and the connection', async () => {
    const registry = new Registry();
    instrument({ registry });
    const client = later(server.client());
    const executor = createRedisExecutor({ redis: client, name: 'r1' });
    await executor.loadScripts();
    const ns = uniqueNamespace('metrics');
    for (const uid of ['u1', 'u2', 'u3'])
      await executor.setLinkedPod(ns, uid, 'room', { podId: 1, persistSeconds: -1 });
    await executor.getServiceState(ns, 'room');
    await executor.getServiceState(ns, 'room');

    const m = await scrape(registry);
    const ops = `${P}operations_total`;
    expect(valueOf(m, ops, { operation: 'setLinkedPod', status: 'success' })).toBe(3);
    expect(valueOf(m, ops, { operation: 'getServiceState', status: 'success' })).toBe(2);
    expect(valueOf(m, `${P}operation_duration_seconds_count`, { operation: 'setLinkedPod' })).toBe(
      3,
    );
    const loaded = executor.stats().scriptsLoaded;
    expect(loaded).toBeGreaterThan(0);
    expect(valueOf(m, `${P}script_loads_total`)).toBe(loaded);
    expect(valueOf(m, `${P}noscript_reloads_total`)).toBe(0);
    expect(valueOf(m, `${P}cache_hit_ratio`, { cache_type: 'script' })).toBe(1);
    expect(statuses(m)).toEqual({
      connect: 0,
      ready: 1,
      error: 0,
      close: 0,
      reconnecting: 0,
      end: 0,
    });

    const admin = later(server.client());
    await admin.script('FLUSH');
    await executor.setLinkedPod(ns, 'u4', 'room', { podId: 1, persistSeconds: -1 });
    const after = await scrape(registry);
    expect(valueOf(after, `${P}noscript_reloads_total`)).toBe(1);
    const { scriptCallsBySha, scriptCallsByText } = executor.stats();
    expect([scriptCallsBySha, scriptCallsByText]).toEqual([3, 1]);
    expect(valueOf(after, `${P}cache_hit_ratio`, { cache_type: 'script' })).toBe(0.75);
    expect(valueOf(after, ops, { operation: 'setLinkedPod', status: 'success' })).toBe(4);
    // The counters beside the ratio: its numerator and the rest of its denominator.
    expect(valueOf(after, `${P}cache_hits_total`, { cache_type: 'script' })).toBe(3);
    expect(valueOf(after, `${P}cache_misses_total`, { cache_type: 'script' })).toBe(1);
    expect(after.types.get(`${P}cache_hits_total`)).toBe('counter');
    // No near cache: no near series, neither ratio nor counters.
    expect(valueOf(after, `${P}cache_hits_total`, { cache_type: 'near' })).toBeUndefined();

    // A closed executor leaves its counters but no longer reports a ratio or a connection.
    await executor.close();
    await client.quit();
    const closed = await scrape(registry);
    expect(samplesOf(closed, `${P}cache_hit_ratio`)).toEqual([]);
    expect(samplesOf(closed, `${P}redis_connection_status`)).toEqual([]);
    expect(valueOf(closed, ops, { operation: 'setLinkedPod', status: 'success' })).toBe(4);
    // Counters never go back: the closed executor's hits and misses stay, and the next
    // executor of the same name adds to them.
    expect(valueOf(closed, `${P}cache_hits_total`, { cache_type: 'script' })).toBe(3);
    expect(valueOf(closed, `${P}cache_misses_total`, { cache_type: 'script' })).toBe(1);
    const client2 = later(server.client());
    const next = createRedisExecutor({ redis: client2, name: 'r1' });
    await next.loadScripts();
    await next.setLinkedPod(ns, 'u5', 'room', { podId: 1, persistSeconds: -1 });
    const again = await scrape(registry);
    expect(valueOf(again, `${P}cache_hits_total`, { cache_type: 'script' })).toBe(4);
    expect(valueOf(again, `${P}cache_misses_total`, { cache_type: 'script' })).toBe(1);
    await next.close();
  });

  it('reads ratio and connection state from executorInstance when the create event was missed', async () => {
    const client = later(server.client());
    const executor = createRedisExecutor({ redis: client, name: 'early' });
    await executor.loadScripts();
    await executor.setLinkedPod(uniqueNamespace('metrics'), 'u1', 'room', {
      podId: 2,
      persistSeconds: 60,
    });

    const without = new Registry();
    instrument({ registry: without, prefix: 'without_' });
    const m0 = await scrape(without);
    expect(samplesOf(m0, 'without_cache_hit_ratio')).toEqual([]);
    expect(samplesOf(m0, 'without_redis_connection_status')).toEqual([]);

    const registry = new Registry();
    instrument({ registry, executorInstance: executor, executorLabel: true, executor: 'early' });
    const m = await scrape(registry);
    expect(valueOf(m, `${P}cache_hit_ratio`, { executor: 'early', cache_type: 'script' })).toBe(1);
    expect(statuses(m, { executor: 'early' })).toMatchObject({ ready: 1, connect: 0, end: 0 });
    await executor.close();
  });

  it('reports the near-cache hit ratio once the near cache has been used', async () => {
    const registry = new Registry();
    instrument({ registry, executor: 'near' });
    const client = later(server.client());
    const executor = createRedisExecutor({ redis: client, name: 'near' });
    const ns = uniqueNamespace('metrics');
    await executor.setServiceState(ns, 'room', 0, 'up');
    const before = await scrape(registry);
    expect(valueOf(before, `${P}cache_hit_ratio`, { cache_type: 'near' })).toBeUndefined();
    await executor.enableNearCache();
    for (let i = 0; i < 4; i++) await executor.getServiceState(ns, 'room');
    const { nearCacheHits, nearCacheMisses } = executor.stats();
    expect(nearCacheHits).toBeGreaterThan(0);
    const m = await scrape(registry);
    expect(valueOf(m, `${P}cache_hit_ratio`, { cache_type: 'near' })).toBe(
      nearCacheHits / (nearCacheHits + nearCacheMisses),
    );
    expect(valueOf(m, `${P}cache_hits_total`, { cache_type: 'near' })).toBe(nearCacheHits);
    expect(valueOf(m, `${P}cache_misses_total`, { cache_type: 'near' })).toBe(nearCacheMisses);
    // Served from the near cache or not, every call is an operation.
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'getServiceState', status: 'success' }),
    ).toBe(4);
    await executor.close();
  });

  it('labels a connection error and follows the connection to its end', async () => {
    const registry = new Registry();
    instrument({ registry, executor: 'down' });
    const port = await freePort(); // nothing listens there
    const client = later(
      new Redis({
        host: '127.0.0.1',
        port,
        maxRetriesPerRequest: 0,
        retryStrategy: (times) => (times <= 2 ? 10 : null),
      }),
    );
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    const executor = createRedisExecutor({ redis: client, name: 'down' });
    await expect(executor.getLinkedPod('ns', 'u1', 'room')).rejects.toMatchObject({
      code: 'SR_REDIS_CONNECTION',
    });
    await ended;
    const m = await scrape(registry);
    expect(
      valueOf(m, `${P}errors_total`, { operation: 'getLinkedPod', error_type: 'connection' }),
    ).toBe(1);
    expect(valueOf(m, `${P}operations_total`, { operation: 'getLinkedPod', status: 'error' })).toBe(
      1,
    );
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'getLinkedPod', status: 'success' }),
    ).toBe(0);
    expect(valueOf(m, `${P}redis_reconnects_total`)).toBe(2);
    expect(statuses(m)).toEqual({
      connect: 0,
      ready: 0,
      error: 0,
      close: 0,
      reconnecting: 0,
      end: 1,
    });
    await executor.close();
  });
});

describe('cache hit and miss counters', () => {
  it('equal the near-cache hits and misses after K cached reads, and restart from 0 on resetMetrics()', async () => {
    const registry = new Registry();
    instrument({ registry, executor: 'near-k' });
    const client = later(server.client());
    const executor = createRedisExecutor({ redis: client, name: 'near-k' });
    const ns = uniqueNamespace('metrics');
    for (let pod = 0; pod < 3; pod++) await executor.setServiceState(ns, 'room', pod, 'up');
    await executor.enableNearCache();
    const K = 25;
    for (let i = 0; i < K; i++) await executor.getServiceState(ns, 'room');
    const stats = executor.stats();
    // Every read after enabling looked the near cache up: K lookups, hits after the first.
    expect(stats.nearCacheHits + stats.nearCacheMisses).toBe(K);
    expect(stats.nearCacheHits).toBeGreaterThan(0);
    const m = await scrape(registry);
    const hits = valueOf(m, `${P}cache_hits_total`, { cache_type: 'near' });
    const misses = valueOf(m, `${P}cache_misses_total`, { cache_type: 'near' });
    expect([hits, misses]).toEqual([stats.nearCacheHits, stats.nearCacheMisses]);
    expect(valueOf(m, `${P}cache_hit_ratio`, { cache_type: 'near' })).toBe(hits! / K);

    // More reads move the counters by exactly as many lookups.
    for (let i = 0; i < K; i++) await executor.getServiceState(ns, 'room');
    const more = await scrape(registry);
    const hits2 = valueOf(more, `${P}cache_hits_total`, { cache_type: 'near' })!;
    const misses2 = valueOf(more, `${P}cache_misses_total`, { cache_type: 'near' })!;
    expect(hits2 + misses2 - hits! - misses!).toBe(K);
    expect([hits2, misses2]).toEqual([
      executor.stats().nearCacheHits,
      executor.stats().nearCacheMisses,
    ]);

    // resetMetrics(): the counters start again at 0 and count from there.
    registry.resetMetrics();
    const zero = await scrape(registry);
    expect(valueOf(zero, `${P}cache_hits_total`, { cache_type: 'near' })).toBe(0);
    expect(valueOf(zero, `${P}cache_misses_total`, { cache_type: 'near' })).toBe(0);
    await executor.getServiceState(ns, 'room');
    const one = await scrape(registry);
    expect(
      valueOf(one, `${P}cache_hits_total`, { cache_type: 'near' })! +
        valueOf(one, `${P}cache_misses_total`, { cache_type: 'near' })!,
    ).toBe(1);
    await executor.close();
  });
});

describe('Redis INFO on scrape', () => {
  it('exposes memory, clients, ops/s and keys per database for the node', async () => {
    const client = later(server.client());
    const db = later(new Redis({ host: server.host, port: server.port, db: 3 }));
    await db.flushdb(); // db 3 of this file's own server holds only these keys
    await db.mset('k1', '1', 'k2', '2', 'k3', '3');
    const registry = new Registry();
    instrument({ registry, redis: client });
    const m = await scrape(registry);
    const node = `${server.host}:${server.port}`;
    expect(valueOf(m, `${P}redis_used_memory_bytes`, { node })).toBeGreaterThan(100_000);
    const maxmemory = (await client.config('GET', 'maxmemory')) as string[];
    expect(valueOf(m, `${P}redis_maxmemory_bytes`, { node })).toBe(Number(maxmemory[1]));
    expect(valueOf(m, `${P}redis_connected_clients`, { node })).toBeGreaterThanOrEqual(2);
    expect(valueOf(m, `${P}redis_instantaneous_ops_per_second`, { node })).toBeGreaterThanOrEqual(
      0,
    );
    expect(valueOf(m, `${P}redis_keys`, { node, db: 'db3' })).toBe(3);
    expect(valueOf(m, `${P}redis_info_errors_total`)).toBe(0);
  });

  it('asks Redis at most once per infoCacheMs, whatever the number of scrapes', async () => {
    const client = later(server.client());
    const admin = later(server.client());
    const registry = new Registry();
    instrument({ registry, redis: client, infoCacheMs: 60_000 });
    const infoCalls = async () => {
      const info = parseRedisInfo(await admin.info('commandstats'));
      return info.commandstats.get('info')?.calls ?? 0;
    };
    const before = await infoCalls();
    await scrape(registry);
    await scrape(registry);
    await scrape(registry);
    // One INFO for the three scrapes, plus the `before` read itself (counted after it ran).
    expect((await infoCalls()) - before).toBe(2);
  });

  it('answers a scrape within infoTimeoutMs while Redis is paused, with the cached figures', async () => {
    const client = later(server.client());
    const registry = new Registry();
    instrument({ registry, redis: client, infoCacheMs: 0, infoTimeoutMs: 200 });
    const cached = valueOf(await scrape(registry), `${P}redis_used_memory_bytes`);
    expect(cached).toBeGreaterThan(0);

    // A registry that has never read INFO has nothing to serve.
    const fresh = new Registry();
    const freshClient = later(server.client());
    await freshClient.ping();
    instrument({ registry: fresh, redis: freshClient, infoTimeoutMs: 200 });

    const pauser = later(server.client());
    await pauser.client('PAUSE', 2000);
    const started = Date.now();
    const paused = await scrape(registry);
    const pausedFresh = await scrape(fresh);
    const elapsed = Date.now() - started;
    // Redis answers nothing for 2 s: returning well before proves the scrape did not wait.
    expect(elapsed).toBeLessThan(1500);
    expect(valueOf(paused, `${P}redis_used_memory_bytes`)).toBe(cached);
    expect(valueOf(paused, `${P}redis_info_errors_total`)).toBe(1);
    expect(samplesOf(pausedFresh, `${P}redis_used_memory_bytes`)).toEqual([]);
    expect(valueOf(pausedFresh, `${P}redis_info_errors_total`)).toBe(1);
    // The operation metrics were served as usual.
    expect(paused.types.get(`${P}operations_total`)).toBe('counter');

    await pauser.client('UNPAUSE');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const resumed = await scrape(registry);
    expect(valueOf(resumed, `${P}redis_info_errors_total`)).toBe(1);
    expect(valueOf(resumed, `${P}redis_used_memory_bytes`)).toBeGreaterThan(0);
  });

  it('labels the figures per master node on a Cluster', async () => {
    const seeds = inject('clusterSeeds');
    const cluster = later(new Cluster(seeds));
    const executor = createRedisExecutor({ redis: cluster, name: 'cl' });
    await executor.loadScripts();
    const registry = new Registry();
    instrument({ registry, redis: cluster, executor: 'cl', executorLabel: true });
    const ns = uniqueNamespace('metrics');
    for (const uid of ['a', 'b', 'c', 'd'])
      await executor.setLinkedPodIfAbsent(ns, uid, 'room', { podId: 3, persistSeconds: 60 });
    const m = await scrape(registry);
    const masters = cluster
      .nodes('master')
      .map((node) => `${node.options.host}:${node.options.port}`);
    expect(masters).toHaveLength(3);
    const memory = samplesOf(m, `${P}redis_used_memory_bytes`);
    expect(memory.map((s) => s.labels.node).sort()).toEqual([...masters].sort());
    expect(memory.every((s) => s.labels.executor === 'cl' && s.value > 0)).toBe(true);
    expect(
      valueOf(m, `${P}operations_total`, {
        executor: 'cl',
        operation: 'setLinkedPodIfAbsent',
        status: 'success',
      }),
    ).toBe(4);
    await executor.close();
  });
});

describe('issue 12: the scraped figures are the calls made (read from the executor telemetry)', () => {
  for (const topology of ['standalone', 'cluster'] as const) {
    it(`${topology}: operations_total, _count, buckets and errors match the calls; _sum within the calls' time`, async () => {
      const registry = new Registry();
      const client = later(
        topology === 'standalone' ? server.client() : new Cluster(inject('clusterSeeds')),
      );
      const executor = createRedisExecutor({ redis: client, name: `calls-${topology}` });
      cleanups.push(() => executor.close());
      instrument({ registry, executorInstance: executor, executor: executor.name });
      const ns = uniqueNamespace('calls');
      const started = performance.now();
      let made = 0;
      for (let i = 0; i < 40; i++) {
        await executor.setLinkedPodIfAbsent(ns, `u${i % 11}`, 'room', {
          podId: i % 3,
          persistSeconds: 300,
        });
        await executor.getServiceState(ns, 'room');
        made += 2;
      }
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => executor.getLinkedPod(ns, `u${i}`, 'room')),
      );
      const refused = await Promise.allSettled(
        Array.from({ length: 7 }, () => executor.getLinkedPod(ns, 'a}b', 'room')),
      );
      expect(refused.every((r) => r.status === 'rejected')).toBe(true);
      const wallSeconds = (performance.now() - started) / 1000;
      const m = await scrape(registry);
      const ops = { setLinkedPodIfAbsent: 40, getServiceState: 40, getLinkedPod: 37 };
      for (const [operation, calls] of Object.entries(ops)) {
        const errors = operation === 'getLinkedPod' ? 7 : 0;
        expect(valueOf(m, `${P}operations_total`, { operation, status: 'success' })).toBe(
          calls - errors,
        );
        expect(valueOf(m, `${P}operations_total`, { operation, status: 'error' })).toBe(errors);
        expect(valueOf(m, `${P}operation_duration_seconds_count`, { operation })).toBe(calls);
        expect(valueOf(m, `${P}operation_duration_seconds_bucket`, { operation, le: '+Inf' })).toBe(
          calls,
        );
        expect(valueOf(m, `${P}operations_in_flight`, { operation })).toBe(0);
      }
      expect(
        valueOf(m, `${P}errors_total`, { operation: 'getLinkedPod', error_type: 'validation' }),
      ).toBe(7);
      const sum = samplesOf(m, `${P}operation_duration_seconds_sum`).reduce(
        (a, s) => a + s.value,
        0,
      );
      expect(sum).toBeGreaterThan(0);
      // Sequential calls, then 30 and 7 at once: their summed durations fit in 37 walls.
      expect(sum).toBeLessThan(wallSeconds * 37);
      expect(made).toBe(80);
    });
  }
});
