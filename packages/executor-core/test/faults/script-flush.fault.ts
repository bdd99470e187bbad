// Fault: the script cache is flushed (SCRIPT FLUSH) again and again while calls are in
// flight. Every link script call must still succeed: NOSCRIPT is answered by sending the
// script text once, which also caches it again.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRedis, uniqueNamespace, type RedisServer } from '@stateful-route/test-redis';
import { createRedisExecutor, type StatefulRouteError } from '@stateful-route/executor-core';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

test('SCRIPT FLUSH during load: no failed call', async () => {
  const connections = [
    new Redis(server.url, { enableAutoPipelining: true }),
    new Redis(server.url),
  ];
  const executor = createRedisExecutor({ redis: connections, name: 'flush' });
  await executor.loadScripts();
  const admin = server.client();
  const ns = uniqueNamespace('flush');
  const errors: string[] = [];
  let calls = 0;
  let running = true;

  const worker = async (w: number): Promise<void> => {
    let i = 0;
    while (running) {
      const uid = `u${w}-${i++ % 50}`;
      const pod = i % 7;
      try {
        switch (i % 6) {
          case 0:
            await executor.setLinkedPod(ns, uid, 'room', { podId: pod, persistSeconds: -1 });
            break;
          case 1:
            await executor.trySetLinkedPod(ns, uid, 'room', { podId: pod, persistSeconds: 100 });
            break;
          case 2:
            await executor.setLinkedPodIfAbsent(ns, uid, 'room', {
              podId: pod,
              persistSeconds: 100,
            });
            break;
          case 3:
            await executor.getLinkedPodIfPersist(ns, uid, 'room');
            break;
          case 4:
            await executor.removeLinkedPodWithId(ns, uid, 'room', { podId: pod });
            break;
          default:
            await executor.removeLinkedPod(ns, uid, 'room');
        }
        calls++;
      } catch (error) {
        errors.push(`${(error as StatefulRouteError).code}: ${(error as Error).message}`);
      }
    }
  };

  // A fixed number of flushes, 100 ms apart, however slow the machine is.
  const FLUSHES = 25;
  const started = performance.now();
  const workers = Array.from({ length: 16 }, (_, w) => worker(w));
  let flushes = 0;
  while (flushes < FLUSHES) {
    await sleep(100);
    await admin.script('FLUSH');
    flushes++;
  }
  const elapsed = performance.now() - started;
  running = false;
  await Promise.all(workers);
  const stats = executor.stats();
  console.log(
    `[fault script-flush] did: ${flushes} SCRIPT FLUSH in ${(elapsed / 1000).toFixed(1)} s under ` +
      `16 concurrent callers. ` +
      `observed: ${calls} calls ok, ${errors.length} failed, ${stats.noscriptReloads} NOSCRIPT ` +
      `answered by re-sending the script, ${stats.scriptCallsBySha} calls served by SHA`,
  );
  expect(errors).toEqual([]);
  // The fault really hit: calls met an empty script cache and recovered from it.
  expect(stats.noscriptReloads).toBeGreaterThanOrEqual(flushes / 2);
  await executor.close();
  admin.disconnect();
  for (const c of connections) c.disconnect();
});
