// Run-time switches under concurrency (issue 11, finding 1 and "by design"): any interleaving
// of enableNearCache / disableNearCache / setConnectionCount / setAutoPipelining /
// setScriptTransport leaves one configuration, at most one invalidation connection and no
// orphan listener, and reads stay within the near cache's staleness bound throughout.
// Server-side tracking memory stays bounded by the cache's own bound (finding 2).
import type {} from '@stateful-route/test-redis/global-setup';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { uniqueNamespace } from '@stateful-route/test-redis';
import {
  createRedisExecutor,
  serviceStateKey,
  workloadKey,
  type RedisExecutor,
} from '@stateful-route/executor-core';
import { ownRedis } from './helpers/own-redis.js';
import { seededRandom, StalenessChecker } from './helpers/staleness.js';

// Our own server: the checks count pubsub connections and tracking keys server-wide.
const redis = ownRedis();
const client = redis.client;
const cleanup = { push: redis.after };

/** Client lines of CLIENT LIST whose name is `name` (optionally of one TYPE). */
async function clientsNamed(admin: Redis, name: string, type?: string): Promise<string[]> {
  const list = (await (type
    ? admin.call('CLIENT', 'LIST', 'TYPE', type)
    : admin.call('CLIENT', 'LIST'))) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `));
}

async function untilTrue(check: () => Promise<boolean>, boundMs: number, what: string) {
  const deadline = performance.now() + boundMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what} not within ${boundMs} ms`);
    await sleep(10);
  }
}

const LISTENED = ['ready', 'close', 'reconnecting', 'end', 'error', 'connect'] as const;
function listenerCounts(redis: Redis): Record<string, number> {
  return Object.fromEntries(LISTENED.map((event) => [event, redis.listenerCount(event)]));
}

describe('issue 11 finding 1: concurrent enables leave one near cache', () => {
  test('20 concurrent enableNearCache() calls: one invalidation connection, and it is the one that invalidates', async () => {
    const ns = uniqueNamespace('sw');
    const name = `sw-${Math.random().toString(36).slice(2, 10)}`;
    const data = client({ connectionName: name });
    const executor = createRedisExecutor({ redis: data, name: 'switches' });
    cleanup.push(() => executor.close());
    const admin = client();
    await executor.setServiceState(ns, 'S', 0, 'old');

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => executor.enableNearCache({ heartbeatMs: 50 })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(executor.nearCacheEnabled).toBe(true);
    // The invalidation connection is a duplicate of the data one: same name, in pubsub mode.
    expect(await clientsNamed(admin, name, 'pubsub')).toHaveLength(1);
    expect(await clientsNamed(admin, name)).toHaveLength(2);

    // Cached, then the invalidation connection is killed and the hash written behind our back.
    await executor.getServiceState(ns, 'S');
    await executor.getServiceState(ns, 'S');
    expect(executor.stats().nearCacheHits).toBeGreaterThan(0);
    const pubsubId = /id=(\d+)/.exec((await clientsNamed(admin, name, 'pubsub'))[0]!)![1]!;
    await admin.client('KILL', 'ID', pubsubId);
    await admin.hset(serviceStateKey(ns, 'S'), '0', 'new');
    const killedAt = performance.now();
    for (const waitMs of [0, 200, 1000]) {
      await sleep(waitMs);
      expect(await executor.getServiceState(ns, 'S')).toEqual({ 0: 'new' });
    }
    // It comes back (one connection again), and invalidations flow to it.
    await untilTrue(
      async () => (await clientsNamed(admin, name, 'pubsub')).length === 1,
      5000,
      'invalidation connection back',
    );
    const hits = executor.stats().nearCacheHits;
    await untilTrue(
      async () => {
        await executor.getServiceState(ns, 'S');
        return executor.stats().nearCacheHits > hits;
      },
      5000,
      'caching resumed',
    );
    await admin.hset(serviceStateKey(ns, 'S'), '0', 'newer');
    await untilTrue(
      async () => (await executor.getServiceState(ns, 'S'))[0] === 'newer',
      200,
      'raw write seen',
    );
    expect(await clientsNamed(admin, name, 'pubsub')).toHaveLength(1);
    console.log(
      `[switches] 20 concurrent enables: 1 invalidation connection; stale reads after the kill: none (checked at 0, 200, 1200 ms; ${(performance.now() - killedAt).toFixed(0)} ms total)`,
    );
  });

  test('disable racing enable ends in one state, with no connection or listener left behind', async () => {
    const name = `sw-${Math.random().toString(36).slice(2, 10)}`;
    const data = client({ connectionName: name });
    const baseline = listenerCounts(data);
    const executor = createRedisExecutor({ redis: data, name: 'switches' });
    cleanup.push(() => executor.close());
    const withExecutor = listenerCounts(data);
    const admin = client();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 31; i++) {
      calls.push(i % 3 === 2 ? executor.disableNearCache() : executor.enableNearCache());
    }
    await Promise.allSettled(calls);
    // The last call was an enable (i = 30): the queue applies them in order.
    expect(executor.nearCacheEnabled).toBe(true);
    expect(await clientsNamed(admin, name, 'pubsub')).toHaveLength(1);
    await executor.disableNearCache();
    expect(listenerCounts(data)).toEqual(withExecutor);
    await untilTrue(
      async () => (await clientsNamed(admin, name, 'pubsub')).length === 0,
      2000,
      'invalidation connection gone',
    );
    await executor.close();
    expect(listenerCounts(data)).toEqual(baseline);
  });
});

describe('by design: any interleaving of switches keeps reads within the staleness bound', () => {
  test('randomized switches, reads and raw writes from another client', async () => {
    const ns = uniqueNamespace('sw');
    const name = `sw-${Math.random().toString(36).slice(2, 10)}`;
    const heartbeatMs = 50;
    // The stated bound: a read never returns a value overwritten (acknowledged) more than
    // 3 heartbeats before it began; the margin is timer granularity on a loaded machine.
    const boundMs = 3 * heartbeatMs + 100;
    const executor = createRedisExecutor({
      redis: client({ connectionName: name }),
      connectionFactory: () => client({ connectionName: name }),
      name: 'switches-random',
    });
    cleanup.push(() => executor.close());
    const admin = client();
    const writer = client();
    const services = ['s0', 's1', 's2'];
    const checker = new StalenessChecker(services, boundMs);
    for (const svc of services) await writer.set(workloadKey(ns, svc), '0');
    let version = 0;
    const random = seededRandom(7);
    const until = performance.now() + 3000;
    const failures: string[] = [];
    let reads = 0;
    let switches = 0;

    const writerLoop = async () => {
      while (performance.now() < until) {
        const svc = services[Math.floor(random() * services.length)]!;
        const v = ++version;
        await writer.set(workloadKey(ns, svc), String(v));
        checker.acked(svc, v);
        await sleep(random() * 8);
      }
    };
    const readerLoop = async () => {
      while (performance.now() < until) {
        const svc = services[Math.floor(random() * services.length)]!;
        const started = performance.now();
        try {
          checker.read(svc, started, Number(await executor.getWorkloadState(ns, svc)));
        } catch (error) {
          failures.push(String(error));
          continue;
        }
        reads++;
        if (random() < 0.3) await sleep(0);
      }
    };
    const switcherLoop = async () => {
      while (performance.now() < until) {
        const pick = random();
        const burst: Promise<unknown>[] = [];
        // Bursts of concurrent switches of every kind.
        for (let i = 0; i < 1 + Math.floor(random() * 4); i++) {
          const which = Math.floor(random() * 6);
          switches++;
          if (which === 0) burst.push(executor.enableNearCache({ heartbeatMs }));
          else if (which === 1) burst.push(executor.disableNearCache());
          else if (which === 2)
            burst.push(executor.setConnectionCount(1 + Math.floor(random() * 3)));
          else if (which === 3) executor.setAutoPipelining(random() < 0.5);
          else if (which === 4) executor.setScriptTransport(random() < 0.5 ? 'eval' : 'evalsha');
          else {
            // The invalidation connection killed from outside, as in the probe.
            const pubsub = await clientsNamed(admin, name, 'pubsub');
            for (const line of pubsub) {
              await admin.client('KILL', 'ID', /id=(\d+)/.exec(line)![1]!).catch(() => 0);
            }
          }
        }
        const settled = await Promise.allSettled(burst);
        for (const s of settled) if (s.status === 'rejected') failures.push(String(s.reason));
        await sleep(20 + pick * 80);
      }
    };
    await Promise.all([writerLoop(), switcherLoop(), ...Array.from({ length: 6 }, readerLoop)]);
    const stats = executor.stats();
    console.log(
      `[switches] randomized: ${switches} switches, ${reads} reads, ${version} raw writes, ` +
        `hits ${stats.nearCacheHits}, violations ${checker.violations.length}`,
    );
    expect(failures).toEqual([]);
    expect(checker.violations).toEqual([]);
    expect(stats.nearCacheHits).toBeGreaterThan(50);

    // Settled: exactly the connections the configuration needs.
    await executor.enableNearCache({ heartbeatMs });
    await executor.setConnectionCount(2);
    await untilTrue(
      async () =>
        (await clientsNamed(admin, name, 'pubsub')).length === 1 &&
        (await clientsNamed(admin, name)).length === 3,
      3000,
      'one invalidation connection and two data connections',
    );
    await executor.disableNearCache();
    await executor.setConnectionCount(1);
    await untilTrue(
      async () => (await clientsNamed(admin, name)).length === 1,
      3000,
      'only the given connection',
    );
  });
});

describe('issue 11 finding 2: reads alone do not grow Redis memory', () => {
  async function trackingKeys(admin: Redis): Promise<number> {
    return Number(/tracking_total_keys:(\d+)/.exec((await admin.info('stats')) as string)![1]);
  }

  test('40 000 distinct services read through the near cache leave tracking_total_keys at most 12 000', async () => {
    const ns = uniqueNamespace('sw');
    const executor: RedisExecutor = createRedisExecutor({
      redis: client({ enableAutoPipelining: true }),
      nearCache: {},
    });
    cleanup.push(() => executor.close());
    await executor.enableNearCache();
    const admin = client();
    for (let i = 0; i < 40_000; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) =>
          j % 2 === 0
            ? executor.getServiceState(ns, `svc-${i + j}`)
            : executor.getWorkloadState(ns, `svc-${i + j}`),
        ),
      );
    }
    const tracked = await trackingKeys(admin);
    const info = (await admin.info('stats')) as string;
    console.log(
      `[switches] after 40 000 distinct reads: tracking_total_keys ${tracked}, ` +
        `tracking_total_prefixes ${/tracking_total_prefixes:(\d+)/.exec(info)?.[1]}`,
    );
    expect(tracked).toBeLessThanOrEqual(12_000);
    // The cache still works: a raw write to a cached key is seen.
    await executor.getWorkloadState(ns, 'svc-39999');
    await admin.set(workloadKey(ns, 'svc-39999'), 'w');
    await untilTrue(
      async () => (await executor.getWorkloadState(ns, 'svc-39999')) === 'w',
      200,
      'raw write seen',
    );
  });
});
