/**
 * Placement over a pod's life on real Redis (standalone and the 3-master Cluster):
 * - a rolling restart of 10 pods while users keep arriving: nothing lands on a draining pod,
 *   and every existing link resolves to its pod throughout (a reader checks them without
 *   pause while the restart runs);
 * - the sweep of a dead pod's 2 500 links keeps to its batch: no Redis call of the sweep
 *   carries more than `batch` uids (the bound behind "no single Redis call over 5 ms"), and
 *   every link and claim of the pod is gone at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedisExecutor, type RedisExecutor } from '@stateful-route/executor-core';
import {
  freshNamespace,
  ready,
  recordCommands,
  redisClient,
  REDIS_BACKENDS,
} from './helpers/harness.js';

const SVC = 'room';

describe.each(REDIS_BACKENDS as ('standalone' | 'cluster')[])('placement life on %s', (backend) => {
  let executor: RedisExecutor;
  beforeAll(() => {
    executor = createRedisExecutor({
      redis: redisClient(backend, true),
      closeClients: true,
    });
  });
  afterAll(async () => {
    await executor.close();
  });

  test('a rolling restart of 10 pods: nothing placed on a draining pod, links resolve throughout', async () => {
    const ns = freshNamespace();
    const PODS = 10;
    for (let pod = 0; pod < PODS; pod++) {
      await executor.registerPod(ns, SVC, pod, { capacity: 1000, ttlSeconds: 60 });
    }
    const placed = new Map<string, number>();
    let next = 0;
    const arrive = async (count: number): Promise<{ uid: string; podId: number }[]> => {
      const uids = Array.from({ length: count }, () => `u-${next++}`);
      const out = await Promise.all(
        uids.map(async (uid) => {
          const { podId } = await executor.allocate(ns, uid, SVC, { persistSeconds: -1 });
          return { uid, podId };
        }),
      );
      for (const { uid, podId } of out) placed.set(uid, podId);
      return out;
    };
    await arrive(200);

    // The reader: every placed link, over and over, while the restart runs.
    let restarting = true;
    const mismatches: string[] = [];
    let reads = 0;
    const reader = (async () => {
      while (restarting) {
        const batch = [...placed].slice(0, 400);
        const pods = await Promise.all(batch.map(([uid]) => executor.getLinkedPod(ns, uid, SVC)));
        batch.forEach(([uid, expected], i) => {
          if (pods[i] !== expected) mismatches.push(`${uid}: ${pods[i]} != ${expected}`);
        });
        reads += batch.length;
      }
    })();

    for (let pod = 0; pod < PODS; pod++) {
      await executor.drainPod(ns, SVC, pod);
      expect((await executor.placement(ns, SVC)).pods[pod]!.status).toBe('draining');
      // Users keep arriving while the pod drains: none of them lands on it.
      const during = await arrive(60);
      expect(during.filter((a) => a.podId === pod)).toEqual([]);
      // The restart: the pod comes back (a heartbeat keeps the drain), then takes users again.
      await executor.registerPod(ns, SVC, pod, { capacity: 1000, ttlSeconds: 60 });
      expect((await executor.placement(ns, SVC)).pods[pod]!.status).toBe('draining');
      await executor.undrainPod(ns, SVC, pod);
    }
    restarting = false;
    await reader;
    expect(mismatches).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    // After the restart every pod is live and takes users again.
    const { pods } = await executor.placement(ns, SVC);
    expect(Object.values(pods).map((p) => p.status)).toEqual(new Array(PODS).fill('live'));
    const after = await arrive(100);
    expect(new Set(after.map((a) => a.podId)).size).toBe(PODS);
    // Claims equal links, pod by pod.
    const links = new Map<number, number>();
    for (const podId of placed.values()) links.set(podId, (links.get(podId) ?? 0) + 1);
    for (const [pod, figures] of Object.entries(pods)) {
      expect(figures.load + after.filter((a) => a.podId === Number(pod)).length).toBe(
        links.get(Number(pod)) ?? 0,
      );
    }
    await executor.deleteNamespaceKeys(ns);
  });

  test('sweeping a dead pod of 2 500 links: no sweep call carries more than its batch', async () => {
    const ns = freshNamespace();
    await executor.registerPod(ns, SVC, 7, { capacity: 5000, ttlSeconds: 1 });
    await executor.registerPod(ns, SVC, 8, { capacity: 10, ttlSeconds: 60 });
    const uids = Array.from({ length: 2500 }, (_, i) => `u-${i}`);
    for (let i = 0; i < uids.length; i += 500) {
      await Promise.all(
        uids
          .slice(i, i + 500)
          .map((uid) =>
            executor.allocate(ns, uid, SVC, { persistSeconds: -1, strategy: 'packed' }),
          ),
      );
    }
    expect((await executor.placement(ns, SVC)).pods[7]!.load).toBe(2500);
    // One link moved to another pod before the sweep: kept.
    await executor.setLinkedPod(ns, 'u-0', SVC, { podId: 8, persistSeconds: -1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const watched = redisClient(backend);
    const sweeper = createRedisExecutor({ redis: watched, closeClients: true });
    try {
      await ready(watched);
      const recording = await recordCommands(watched);
      const result = await sweeper.sweepDeadPods(ns, SVC, { batch: 100 });
      const commands = await recording.stop();
      expect(result).toEqual({ swept: 2499, released: 2500 });
      // Each script call of the sweep: at most 100 uids (plus its fixed keys and arguments).
      const scriptCalls = commands.filter((c) => /^eval(sha)?$/i.test(c[0] ?? ''));
      expect(scriptCalls.length).toBeGreaterThan(25);
      const widest = Math.max(...scriptCalls.map((c) => c.length));
      // EVALSHA sha numkeys + 8 keys + prefix, pod, grace + 100 uids = 114 words at most.
      expect(widest).toBeLessThanOrEqual(3 + 8 + 3 + 100);
    } finally {
      await sweeper.close();
    }
    const { pods } = await executor.placement(ns, SVC);
    expect(pods[7]).toBeUndefined();
    expect(await executor.getLinkedPod(ns, 'u-0', SVC)).toBe(8);
    expect(await executor.getLinkedPod(ns, 'u-1', SVC)).toBe(-1);
    await executor.deleteNamespaceKeys(ns);
  });
});
