import type {} from '@stateful-route/test-redis/global-setup';
import { Redis } from 'ioredis';
import { afterEach, expect, inject, test } from 'vitest';
import { createRedisExecutor } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { tune, type TuneConfiguration } from '@stateful-route/optimizer';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(): Redis {
  const redis = new Redis(inject('redisUrl'));
  cleanup.push(() => redis.disconnect());
  return redis;
}

const candidates: TuneConfiguration[] = [
  { scriptTransport: 'evalsha', autoPipelining: false, connections: 1, nearCache: true },
  { scriptTransport: 'evalsha', autoPipelining: true, connections: 2, nearCache: false },
];

test('in place: every trial reported, the winner is the fastest eligible and is applied', async () => {
  const executor = createRedisExecutor({
    redis: client(),
    name: 'tune',
    scriptTransport: 'eval',
    connectionFactory: () => client(),
  });
  cleanup.push(() => executor.close());
  const result = await tune(executor, {
    workload: { concurrency: 32, namespace: uniqueNamespace('tune') },
    trialMs: 400,
    warmupMs: 100,
    candidates,
  });
  expect(result.trials).toHaveLength(3);
  expect(result.trials[0]).toBe(result.baseline);
  expect(result.baseline.configuration).toEqual({
    scriptTransport: 'eval',
    autoPipelining: false,
    connections: 1,
    nearCache: false,
  });
  const eligible = result.trials.filter((t) => t.eligible);
  expect(result.winner.throughput).toBe(Math.max(...eligible.map((t) => t.throughput)));
  expect(result.winner.verdict).toBe('winner');
  for (const trial of result.trials) {
    expect(trial.verdict).not.toBe('');
    expect(trial.operations).toBeGreaterThan(0);
  }
  expect(result.trials[1]!.nearCacheHits).toBeGreaterThan(0);
  expect(result.applied).toBe(true);
  const d = executor.describe();
  expect({
    scriptTransport: d.scriptTransport,
    autoPipelining: d.autoPipelining,
    connections: d.connections,
    nearCache: d.nearCache?.enabled,
  }).toEqual(result.winner.configuration);
  console.log(`tune: ${result.reason}`);
  for (const t of result.trials)
    console.log(`  ${t.label}: ${t.throughput}/s p99 ${t.p99Ms} ms -> ${t.verdict}`);
});

test('a factory: fresh executors per trial; configurations that cannot be made are reported', async () => {
  const made: string[] = [];
  const result = await tune(
    () => {
      const executor = createRedisExecutor({ redis: client(), name: `tune-f${made.length}` });
      made.push(executor.name);
      return executor;
    },
    {
      workload: { concurrency: 8, namespace: uniqueNamespace('tunef') },
      trialMs: 200,
      warmupMs: 0,
      candidates,
      p99GuardRatio: 100,
    },
  );
  expect(made).toHaveLength(3);
  // No connectionFactory: two connections cannot be made.
  expect(result.trials[2]!.verdict).toMatch(/could not be configured: SR_VALIDATION/);
  expect(result.trials[2]!.eligible).toBe(false);
  expect(result.applied).toBe(false);
});

test('rejects bad options', async () => {
  const executor = createRedisExecutor({ redis: client() });
  cleanup.push(() => executor.close());
  await expect(tune(executor, { workload: {}, trialMs: 0 })).rejects.toMatchObject({
    code: 'SR_OPTIMIZER_INVALID_OPTION',
  });
  await expect(
    tune(executor, { workload: {}, trialMs: 10, p99GuardRatio: 0.5 }),
  ).rejects.toMatchObject({
    code: 'SR_OPTIMIZER_INVALID_OPTION',
  });
});
