import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, inject, test } from 'vitest';
import {
  createMemoryExecutor,
  createRedisExecutor,
  hasNamespaceMaintenance,
  redisDeleteNamespaceKeys,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';

const redis = new Redis(inject('redisUrl'));
const cluster = new Cluster(inject('clusterSeeds'));
afterAll(() => {
  redis.disconnect();
  cluster.disconnect();
});

/** Writes one key of every kind under `ns`: state, workload, link and link index. */
async function fill(executor: StatefulExecutor, ns: string, uids: number): Promise<void> {
  await executor.setServiceState(ns, 'svc', 0, '{}');
  await executor.setWorkloadState(ns, 'svc', '{}');
  for (let i = 0; i < uids; i += 1)
    await executor.setLinkedPod(ns, `u-${i}`, 'svc', { podId: 1, persistSeconds: -1 });
}

const backends = [
  ['memory', () => createMemoryExecutor({ name: 'ns-keys-memory' })],
  ['standalone', () => createRedisExecutor({ redis, name: 'ns-keys-redis' })],
  ['cluster', () => createRedisExecutor({ redis: cluster, name: 'ns-keys-cluster' })],
] as const;

describe.each(backends)('namespace maintenance on %s', (_, create) => {
  test('finds and deletes every key of one namespace, and none of another', async () => {
    const executor = create();
    expect(hasNamespaceMaintenance(executor)).toBe(true);
    if (!hasNamespaceMaintenance(executor)) return;
    const ns = uniqueNamespace('nsk');
    // A namespace that `ns` is a prefix of, and one with glob characters: not matched.
    const longer = `${ns}x`;
    const glob = `${ns}*`;
    try {
      expect(await executor.hasNamespaceKeys(ns)).toBe(false);
      await fill(executor, ns, 1500);
      await fill(executor, longer, 3);
      await fill(executor, glob, 3);
      expect(await executor.hasNamespaceKeys(ns)).toBe(true);
      // 1 state + 1 workload + 1500 links + 1500 link indexes: more than one SCAN page.
      expect(await executor.deleteNamespaceKeys(ns)).toBe(3002);
      expect(await executor.hasNamespaceKeys(ns)).toBe(false);
      expect(await executor.getLinkedPod(ns, 'u-7', 'svc')).toBe(-1);
      expect(await executor.getServiceState(ns, 'svc')).toEqual({});
      expect(await executor.hasNamespaceKeys(longer)).toBe(true);
      expect(await executor.getLinkedPod(glob, 'u-2', 'svc')).toBe(1);
      expect(await executor.deleteNamespaceKeys(ns)).toBe(0);
      expect(await executor.deleteNamespaceKeys(longer)).toBe(8);
      expect(await executor.deleteNamespaceKeys(glob)).toBe(8);
    } finally {
      await executor.close();
    }
  });

  test('refuses a bad namespace, and works only while open', async () => {
    const executor = create();
    if (!hasNamespaceMaintenance(executor)) throw new Error('no maintenance');
    await expect(executor.deleteNamespaceKeys('a:lk:b')).rejects.toMatchObject({
      code: 'SR_VALIDATION',
      field: 'namespace',
    });
    await expect(executor.hasNamespaceKeys('')).rejects.toMatchObject({ code: 'SR_VALIDATION' });
    await executor.close();
    await expect(executor.hasNamespaceKeys('ok')).rejects.toMatchObject({
      code: 'SR_EXECUTOR_CLOSED',
    });
    await expect(executor.deleteNamespaceKeys('ok')).rejects.toMatchObject({
      code: 'SR_EXECUTOR_CLOSED',
    });
  });
});

test('redisDeleteNamespaceKeys works on a client the caller owns', async () => {
  const ns = uniqueNamespace('nsk-client');
  await redis.set(`sf:{${ns}:workload:svc}`, '{}');
  await redis.hset(`sf:{${ns}:state:svc}`, '0', '{}');
  expect(await redisDeleteNamespaceKeys(redis, ns)).toBe(2);
  expect(await redis.exists(`sf:{${ns}:workload:svc}`, `sf:{${ns}:state:svc}`)).toBe(0);
});
