import type {} from '@stateful-route/test-redis/global-setup';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, expect, inject, test } from 'vitest';
import { runWorkload } from '@stateful-route/analyzer';
import { createRedisExecutor } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(): Redis {
  const redis = new Redis(inject('redisUrl'));
  cleanup.push(() => redis.disconnect());
  return redis;
}

test('run-time switches under load: no error, no lost write, every switch takes effect', async () => {
  const namespace = uniqueNamespace('switch');
  const executor = createRedisExecutor({
    redis: client(),
    name: 'switches',
    scriptTransport: 'eval',
    connectionFactory: () => client(),
  });
  cleanup.push(() => executor.close());
  // keep: the checker below writes into the same namespace until after the workload ends, and
  // the workload's own cleanup would delete its keys under it; the test deletes them itself
  // once the checker has stopped.
  const workload = runWorkload(executor, {
    durationMs: 2000,
    concurrency: 48,
    namespace,
    keep: true,
  });

  // A checker beside the load: each write is read back at once through the same executor.
  let checks = 0;
  const mismatches: string[] = [];
  let running = true;
  const checker = (async () => {
    while (running) {
      try {
        await check();
      } catch (error) {
        mismatches.push(`check ${checks} failed: ${(error as Error).message}`);
        checks++;
      }
    }
  })();
  async function check(): Promise<void> {
    {
      const value = `check-${checks}`;
      await executor.setServiceState(namespace, 'checked', 1, value);
      const read = await executor.getServiceState(namespace, 'checked');
      if (read[1] !== value) mismatches.push(`${value} read as ${String(read[1])}`);
      const pod = await executor.setLinkedPod(namespace, `c-${checks}`, 'checked', {
        podId: 3,
        persistSeconds: 60,
      });
      if (pod !== -1) mismatches.push(`new link replaced pod ${pod}`);
      if ((await executor.getLinkedPod(namespace, `c-${checks}`, 'checked')) !== 3) {
        mismatches.push(`link c-${checks} lost`);
      }
      checks++;
    }
  }

  const seen = new Set<string>();
  const steps: (() => Promise<void> | void)[] = [
    () => executor.loadScripts(),
    () => executor.setScriptTransport('evalsha'),
    () => executor.setAutoPipelining(true),
    () => executor.setConnectionCount(3),
    () => executor.enableNearCache(),
    () => executor.setConnectionCount(1),
    () => executor.setAutoPipelining(false),
    () => executor.setScriptTransport('eval'),
    () => executor.disableNearCache(),
    () => executor.setConnectionCount(2),
    () => executor.setScriptTransport('evalsha'),
  ];
  for (const step of steps) {
    await sleep(120);
    await step();
    const d = executor.describe();
    seen.add(`${d.scriptTransport}/${d.autoPipelining}/${d.connections}/${d.nearCache?.enabled}`);
  }
  const result = await workload;
  running = false;
  await checker;
  await executor.deleteNamespaceKeys(namespace);

  const failing = Object.entries(result.snapshot.operations)
    .filter(([, op]) => op.errors > 0)
    .map(([name, op]) => `${name}: ${JSON.stringify(op.errorsByType)}`);
  expect(failing).toEqual([]);
  expect(result.errors).toBe(0);
  expect(mismatches).toEqual([]);
  expect(checks).toBeGreaterThan(10);
  expect(seen.size).toBeGreaterThanOrEqual(8);
  const stats = executor.stats();
  expect(stats.scriptCallsBySha).toBeGreaterThan(0);
  expect(stats.scriptCallsByText).toBeGreaterThan(0);
  expect(stats.nearCacheHits).toBeGreaterThan(0);
  expect(executor.describe()).toMatchObject({ connections: 2, scriptTransport: 'evalsha' });
  console.log(
    `switches under load: ${result.operations} calls, ${result.throughput}/s, ${checks} read-back checks, 0 errors`,
  );
});
