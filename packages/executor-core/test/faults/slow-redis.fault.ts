// Fault: Redis stops answering for a while (CLIENT PAUSE, as a long-running command or a
// stalled host would). Calls must fail with SR_REDIS_TIMEOUT at the configured command
// timeout, not hang, and the Node event loop must stay free meanwhile.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRedis, uniqueNamespace, type RedisServer } from '@stateful-route/test-redis';
import { createRedisExecutor, type StatefulRouteError } from '@stateful-route/executor-core';

const COMMAND_TIMEOUT_MS = 250;
// Timer granularity and a busy 2-core machine: a call may end this much after the timeout.
const MARGIN_MS = 400;
const PAUSE_MS = 2000;

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

test('slow Redis: calls time out at the command timeout with SR_REDIS_TIMEOUT', async () => {
  const redis = new Redis(server.url, { commandTimeout: COMMAND_TIMEOUT_MS });
  const executor = createRedisExecutor({ redis, name: 'slow' });
  await executor.loadScripts();
  const ns = uniqueNamespace('slow');
  await executor.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 });
  const admin = server.client();

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
  const pausedAt = performance.now();
  const calls: { op: string; ms: number; code: string }[] = [];
  const attempt = async (op: string, call: () => Promise<unknown>) => {
    const started = performance.now();
    try {
      await call();
      calls.push({ op, ms: performance.now() - started, code: 'ok' });
    } catch (error) {
      calls.push({ op, ms: performance.now() - started, code: (error as StatefulRouteError).code });
    }
  };
  // Several waves while Redis is paused, every kind of call.
  while (performance.now() - pausedAt < PAUSE_MS - COMMAND_TIMEOUT_MS - MARGIN_MS) {
    await Promise.all([
      attempt('getLinkedPod', () => executor.getLinkedPod(ns, 'u1', 'room')),
      attempt('setLinkedPod', () =>
        executor.setLinkedPod(ns, 'u2', 'room', { podId: 1, persistSeconds: 100 }),
      ),
      attempt('getLinkedPodIfPersist', () => executor.getLinkedPodIfPersist(ns, 'u1', 'room')),
      attempt('getServiceState', () => executor.getServiceState(ns, 'room')),
      attempt('getWorkloadStateBatch', () => executor.getWorkloadStateBatch(ns, ['a', 'b'])),
    ]);
  }
  loop.disable();
  const slowest = Math.max(...calls.map((c) => c.ms));
  const codes = [...new Set(calls.map((c) => c.code))];
  console.log(
    `[fault slow-redis] did: CLIENT PAUSE ${PAUSE_MS} ALL, command timeout ` +
      `${COMMAND_TIMEOUT_MS} ms. observed: ${calls.length} calls, codes ${codes.join(', ')}, ` +
      `fastest ${Math.min(...calls.map((c) => c.ms)).toFixed(0)} ms, slowest ` +
      `${slowest.toFixed(0)} ms; event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ` +
      `ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
  );
  expect(calls.length).toBeGreaterThanOrEqual(15);
  expect(codes).toEqual(['SR_REDIS_TIMEOUT']);
  for (const call of calls) {
    expect(call.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 5);
    expect(call.ms).toBeLessThan(COMMAND_TIMEOUT_MS + MARGIN_MS);
  }
  // Waiting on Redis never blocks the event loop: a blocked loop would stall for the whole
  // pause (2 s); the bound leaves room for a CPU shared with other processes.
  expect(loop.max / 1e6).toBeLessThan(500);

  // After the pause the same connection answers again and nothing was half-written.
  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, PAUSE_MS + 200 - (performance.now() - pausedAt))),
  );
  expect(await executor.getLinkedPod(ns, 'u1', 'room')).toBe(3);
  await executor.close();
  admin.disconnect();
  redis.disconnect();
});
