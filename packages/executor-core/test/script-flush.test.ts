/**
 * SCRIPT FLUSH (on every master) in the middle of a run of link operations: no operation
 * fails, NOSCRIPT is answered by re-sending the script, and the results are exactly those of
 * the same run with the EVAL transport and on the memory backend. This file starts its own
 * servers: flushing the shared ones would disturb the script counters of other test files.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import {
  startRedis,
  startRedisCluster,
  uniqueNamespace,
  type RedisClusterServer,
  type RedisServer,
} from '@stateful-route/test-redis';
import {
  createMemoryExecutor,
  createRedisExecutor,
  type MemoryExecutor,
  type RedisClient,
  type ScriptTransport,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { masters, ready, redisSnapshot, type RawKey } from './helpers/harness.js';

const WORKERS = 8;
const STEPS = 120;

type Step = (ex: StatefulExecutor, ns: string) => Promise<unknown>;

/** A deterministic run: each worker owns its uids, so the outcome does not depend on timing. */
function plan(): Step[][] {
  let seed = 12345;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  return Array.from({ length: WORKERS }, (_, w) =>
    Array.from({ length: STEPS }, (): Step => {
      const uid = `w${w}-u${random(4)}`;
      const svc = ['room', 'chat'][random(2)]!;
      const pod = random(4);
      const persist = random(3) === 0 ? 300 : -1;
      switch (random(10)) {
        case 0:
          return (ex, ns) => ex.setLinkedPod(ns, uid, svc, { podId: pod, persistSeconds: persist });
        case 1:
          return (ex, ns) =>
            ex.trySetLinkedPod(ns, uid, svc, { podId: pod, persistSeconds: persist });
        case 2:
          return (ex, ns) =>
            ex.setLinkedPodIfAbsent(ns, uid, svc, { podId: pod, persistSeconds: persist });
        case 3:
          return (ex, ns) => ex.removeLinkedPod(ns, uid, svc, { keepSeconds: random(3) - 1 });
        case 4:
          return (ex, ns) => ex.removeLinkedPodWithId(ns, uid, svc, { podId: pod });
        case 5:
          return (ex, ns) => ex.getLinkedPodIfPersist(ns, uid, svc);
        case 6:
          return (ex, ns) => ex.getLinkedPod(ns, uid, svc);
        case 7:
          return (ex, ns) => ex.getLinkService(ns, uid);
        case 8:
          return (ex, ns) => ex.batchGetLinkedPod(ns, [`w${w}-u0`, `w${w}-u1`, `w${w}-u2`], svc);
        default:
          return (ex, ns) => ex.trySetLinkedPod(ns, uid, svc, { podId: pod, persistSeconds: -1 });
      }
    }),
  );
}

/** Runs the plan with every worker in flight at once; `midway` runs after half the calls. */
async function run(
  ex: StatefulExecutor,
  ns: string,
  midway: () => Promise<void> = async () => {},
): Promise<{ results: unknown[][]; errors: unknown[] }> {
  const steps = plan();
  const errors: unknown[] = [];
  let done = 0;
  let flushed: Promise<void> | undefined;
  const results = await Promise.all(
    steps.map(async (worker) => {
      const out: unknown[] = [];
      for (const step of worker) {
        try {
          out.push(await step(ex, ns));
        } catch (error) {
          errors.push(error);
          out.push(error);
        }
        if (++done === (WORKERS * STEPS) / 2) flushed = midway();
      }
      return out;
    }),
  );
  await flushed;
  return { results, errors };
}

function normalise(snapshot: Record<string, RawKey>, ns: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([key, entry]) => [
      key.replace(ns, 'NS'),
      { ...entry, ttl: entry.ttl === -1 ? 'none' : entry.ttl > 250 ? 'temporary' : entry.ttl },
    ]),
  );
}

async function flushScripts(client: RedisClient): Promise<void> {
  await Promise.all(masters(client).map((node) => node.script('FLUSH')));
}

let expected: { results: unknown[][]; snapshot: Record<string, unknown> };
beforeAll(async () => {
  const memory: MemoryExecutor = createMemoryExecutor();
  const ns = uniqueNamespace('flush');
  const { results, errors } = await run(memory, ns);
  expect(errors).toEqual([]);
  const snapshot: Record<string, RawKey> = {};
  for (const [key, entry] of Object.entries(memory.dump())) snapshot[key] = entry;
  expected = { results, snapshot: normalise(snapshot, ns) };
  await memory.close();
});

describe.each(['standalone', 'cluster'] as const)('SCRIPT FLUSH mid-run on %s', (topology) => {
  let standalone: RedisServer | undefined;
  let cluster: RedisClusterServer | undefined;
  let client: RedisClient;
  beforeAll(async () => {
    if (topology === 'standalone') {
      standalone = await startRedis();
      client = new Redis(standalone.url);
    } else {
      cluster = await startRedisCluster({ masters: 3 });
      client = new Cluster(cluster.seeds);
    }
    await ready(client);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await standalone?.stop();
    await cluster?.stop();
  });

  test.each(['evalsha', 'eval'] as ScriptTransport[])(
    'transport %s: no call fails, results equal the memory backend',
    async (scriptTransport) => {
      const executor = createRedisExecutor({ redis: client, scriptTransport });
      await executor.loadScripts();
      const ns = uniqueNamespace('flush');
      let flushes = 0;
      const { results, errors } = await run(executor, ns, async () => {
        await flushScripts(client);
        flushes++;
      });
      expect(flushes).toBe(1);
      expect(errors).toEqual([]);
      expect(results).toEqual(expected.results);
      expect(normalise(await redisSnapshot(client, ns), ns)).toEqual(expected.snapshot);
      const stats = executor.stats();
      if (scriptTransport === 'evalsha') {
        expect(stats.noscriptReloads).toBeGreaterThan(0);
        expect(stats.scriptCallsBySha).toBeGreaterThan(0);
        // Each NOSCRIPT costs one EVAL, which caches the script again.
        expect(stats.scriptCallsByText).toBe(stats.noscriptReloads);
      } else {
        expect(stats.noscriptReloads).toBe(0);
        expect(stats.scriptCallsBySha).toBe(0);
        expect(stats.scriptCallsByText).toBeGreaterThan(0);
      }
      await executor.close();
    },
  );

  test('repeated flushes while 64 calls are in flight', async () => {
    const executor = createRedisExecutor({ redis: client });
    await executor.loadScripts();
    const ns = uniqueNamespace('flush');
    let stop = false;
    const flusher = (async () => {
      while (!stop) {
        await flushScripts(client);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const calls = Array.from({ length: 64 }, async (_, i) => {
      for (let round = 0; round < 20; round++) {
        expect(
          await executor.setLinkedPod(ns, `u${i}`, 'room', { podId: round, persistSeconds: -1 }),
        ).toBe(round - 1);
      }
    });
    await Promise.all(calls);
    stop = true;
    await flusher;
    expect(executor.stats().noscriptReloads).toBeGreaterThan(0);
    await executor.close();
  });
});
