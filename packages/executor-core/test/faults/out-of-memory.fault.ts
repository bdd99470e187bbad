// Fault: Redis reaches maxmemory with the noeviction policy. Writes must fail with
// SR_REDIS_OOM before changing anything, and reads must keep working.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRedis, uniqueNamespace, type RedisServer } from '@stateful-route/test-redis';
import {
  createRedisExecutor,
  linkIndexKey,
  linkKey,
  type StatefulRouteError,
} from '@stateful-route/executor-core';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
});
afterAll(async () => {
  await server?.stop();
});

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return (error as StatefulRouteError).code;
  }
}

test('out of memory: writes fail with SR_REDIS_OOM and change nothing, reads work', async () => {
  const redis = new Redis(server.url);
  const executor = createRedisExecutor({ redis, name: 'oom' });
  await executor.loadScripts();
  const ns = uniqueNamespace('oom');
  await executor.setLinkedPod(ns, 'perm', 'room', { podId: 4, persistSeconds: -1 });
  await executor.setLinkedPod(ns, 'temp', 'room', { podId: 5, persistSeconds: 300 });
  await executor.setServiceState(ns, 'room', 0, 'READY');
  await executor.setWorkloadState(ns, 'room', 'w1');

  // Fill memory with a separate client until Redis refuses.
  const filler = server.client();
  let filled = 0;
  const chunk = 'x'.repeat(16 * 1024);
  for (;;) {
    try {
      await filler.set(`filler:${filled}`, chunk);
      filled++;
    } catch (error) {
      expect((error as Error).message).toMatch(/^OOM/);
      break;
    }
  }
  const keys = [linkKey(ns, 'perm', 'room'), linkIndexKey(ns, 'perm'), linkKey(ns, 'new', 'room')];
  const dumpBefore = await Promise.all(keys.map((k) => filler.dump(k)));

  const writes = {
    setLinkedPod: await codeOf(
      executor.setLinkedPod(ns, 'new', 'room', { podId: 1, persistSeconds: -1 }),
    ),
    setLinkedPodOverwrite: await codeOf(
      executor.setLinkedPod(ns, 'perm', 'room', { podId: 9, persistSeconds: -1 }),
    ),
    trySetLinkedPod: await codeOf(
      executor.trySetLinkedPod(ns, 'new', 'room', { podId: 1, persistSeconds: 100 }),
    ),
    setLinkedPodIfAbsent: await codeOf(
      executor.setLinkedPodIfAbsent(ns, 'new', 'room', { podId: 1, persistSeconds: 100 }),
    ),
    setServiceState: await codeOf(executor.setServiceState(ns, 'room', 1, 'READY')),
    setWorkloadState: await codeOf(executor.setWorkloadState(ns, 'room', 'w2')),
  };
  const reads = {
    getLinkedPod: await executor.getLinkedPod(ns, 'perm', 'room'),
    getLinkedPodIfPersist: await executor.getLinkedPodIfPersist(ns, 'perm', 'room'),
    getLinkedPodTemp: await executor.getLinkedPod(ns, 'temp', 'room'),
    getLinkService: await executor.getLinkService(ns, 'perm'),
    batchGetLinkedPod: await executor.batchGetLinkedPod(ns, ['perm', 'temp', 'new'], 'room'),
    getServiceState: await executor.getServiceState(ns, 'room'),
    getWorkloadState: await executor.getWorkloadState(ns, 'room'),
  };
  const dumpAfter = await Promise.all(keys.map((k) => filler.dump(k)));
  console.log(
    `[fault out-of-memory] did: maxmemory 2mb noeviction, filled with ${filled} x 16 KiB. ` +
      `observed: writes ${JSON.stringify(writes)}; reads ${JSON.stringify(reads)}`,
  );
  for (const code of Object.values(writes)) expect(code).toBe('SR_REDIS_OOM');
  expect(reads).toEqual({
    getLinkedPod: 4,
    getLinkedPodIfPersist: 4,
    getLinkedPodTemp: 5,
    getLinkService: { room: 4 },
    batchGetLinkedPod: { 4: ['perm'], 5: ['temp'] },
    getServiceState: { 0: 'READY' },
    getWorkloadState: 'w1',
  });
  expect(dumpAfter).toEqual(dumpBefore);
  // Removing frees memory and is allowed (DEL is not refused under OOM).
  expect(await executor.removeLinkedPod(ns, 'temp', 'room')).toBe(true);
  await executor.close();
  filler.disconnect();
  redis.disconnect();
});
