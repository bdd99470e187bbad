import { Redis, Cluster } from 'ioredis';
import { inject, test, expect } from 'vitest';
import { createRedisExecutor, createMemoryExecutor } from '@stateful-route/executor-core';

test('smoke', async () => {
  const redis = new Redis(inject('redisUrl'));
  const cluster = new Cluster(inject('clusterSeeds'));
  for (const ex of [
    createMemoryExecutor(),
    createRedisExecutor({ redis }),
    createRedisExecutor({ redis: cluster }),
  ]) {
    expect(await ex.setLinkedPod('ns', 'u1', 'room', 3, -1)).toBe(-1);
    expect(await ex.setLinkedPod('ns', 'u1', 'room', 4, 60)).toBe(3);
    expect(await ex.trySetLinkedPod('ns', 'u1', 'room', 5, -1)).toEqual({
      linked: true,
      current: 5,
      previous: 4,
    });
    expect(await ex.trySetLinkedPod('ns', 'u1', 'room', 6, -1)).toEqual({
      linked: false,
      current: 5,
      previous: -1,
    });
    expect(await ex.getLinkService('ns', 'u1')).toEqual({ room: 5 });
    expect(await ex.batchGetLinkedPod('ns', ['u1', 'u2'], 'room')).toEqual({ 5: ['u1'] });
    expect(await ex.getLinkedPodIfPersist('ns', 'u1', 'room')).toBe(5);
    expect(await ex.removeLinkedPodWithId('ns', 'u1', 'room', -1, 4)).toBe(false);
    expect(await ex.removeLinkedPod('ns', 'u1', 'room', 10)).toBe(true);
    await ex.setServiceState('ns', 'room', 0, 'READY');
    expect(await ex.getServiceState('ns', 'room')).toEqual({ 0: 'READY' });
    await ex.setWorkloadState('ns', 'room', 'x');
    expect(await ex.getWorkloadStateBatch('ns', ['room', 'other'])).toEqual({ room: 'x' });
    await ex.close();
  }
  redis.disconnect();
  cluster.disconnect();
});
