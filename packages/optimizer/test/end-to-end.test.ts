import type {} from '@stateful-route/test-redis/global-setup';
import { Cluster, Redis } from 'ioredis';
import { afterEach, expect, inject, test } from 'vitest';
import { createAnalyzer, runWorkload } from '@stateful-route/analyzer';
import { createRedisExecutor, type RedisExecutor } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { applyActions, diagnose, evaluate, type Finding } from '@stateful-route/optimizer';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(): Redis {
  const redis = new Redis(inject('redisUrl'));
  cleanup.push(() => redis.disconnect());
  return redis;
}

/** The original Go port's way: EVAL of the full text, no pipelining, no cache, 1 connection. */
function unoptimised(name: string): RedisExecutor {
  const executor = createRedisExecutor({
    redis: client(),
    name,
    scriptTransport: 'eval',
    connectionFactory: () => client(),
  });
  cleanup.push(() => executor.close());
  return executor;
}

test('unoptimised executor: findings name the problems, apply fixes them, the second run saves round trips', async () => {
  const namespace = uniqueNamespace('opt-e2e');
  const executor = unoptimised('e2e');
  const admin = client();
  const workload = { durationMs: 1500, concurrency: 64, namespace, redis: admin };

  const before = await runWorkload(executor, workload);
  expect(before.errors).toBe(0);
  const findings = evaluate({
    snapshot: before.snapshot,
    description: executor.describe(),
    stats: executor.stats(),
  });
  const ids = findings.map((f) => f.id);
  expect(ids).toEqual(expect.arrayContaining(['script-transport', 'near-cache']));
  // Autopipelining is advised only when the wait is on round trips, not on a saturated
  // event loop; which of the two it is here depends on the machine, so check consistency.
  const loopP99 = before.snapshot.process!.eventLoopDelay.p99;
  if (ids.includes('enable-autopipelining')) expect(loopP99).toBeLessThan(20);
  const evidence = (id: string) => findings.find((f) => f.id === id)!.evidence;
  expect(evidence('script-transport')[0]).toMatchObject({ observed: 0, threshold: 0.8 });
  expect(evidence('near-cache')[0]!.observed).toBeGreaterThanOrEqual(4);

  const applied = await applyActions(executor, findings);
  expect(applied.map((a) => [a.id, a.outcome])).toEqual(
    expect.arrayContaining([
      ['preload-scripts', 'applied'],
      ['enable-near-cache', 'applied'],
    ]),
  );
  expect(executor.describe()).toMatchObject({
    scriptTransport: 'evalsha',
    nearCache: { enabled: true },
  });
  expect(executor.describe().autoPipelining).toBe(ids.includes('enable-autopipelining'));

  const after = await runWorkload(executor, { ...workload, prepare: false });
  expect(after.errors).toBe(0);
  const stats = after.snapshot.executorStats!;
  const stateReads = after.snapshot.operations.getServiceState!.count;
  // Deterministic gains: scripts by SHA only, and most state reads made no round trip.
  expect(stats.scriptCallsByText).toBe(0);
  expect(stats.scriptCallsBySha).toBeGreaterThan(0);
  expect(stats.nearCacheHits).toBeGreaterThan(stateReads / 2);
  expect(after.snapshot.operations.getServiceState!.cached).toBeGreaterThan(stateReads / 2);
  // The findings it fixed are gone.
  const again = evaluate({ snapshot: after.snapshot, description: executor.describe() }).map(
    (f) => f.id,
  );
  expect(again).not.toContain('script-transport');
  expect(again).not.toContain('near-cache');
  console.log(
    `end-to-end: before ${before.throughput} calls/s (p99 ${before.snapshot.operations.getServiceState!.latency.p99} ms getServiceState), ` +
      `after ${after.throughput} calls/s (p99 ${after.snapshot.operations.getServiceState!.latency.p99} ms), ` +
      `ratio ${(after.throughput / before.throughput).toFixed(2)}x; near-cache hits ${stats.nearCacheHits} ` +
      `of ${stateReads} state reads (round trips saved)`,
  );
});

test('diagnose gathers snapshot, description, stats, INFO memory and SLOWLOG', async () => {
  const namespace = uniqueNamespace('opt-diag');
  const executor = unoptimised('diag');
  const admin = client();
  const analyzer = createAnalyzer({ executor, redis: admin });
  cleanup.push(() => analyzer.close());
  await runWorkload(executor, { durationMs: 500, concurrency: 16, namespace, analyzer });
  const findings: Finding[] = await diagnose({ analyzer, executor, redis: admin });
  expect(findings.map((f) => f.id)).toContain('script-transport');
  // A Redis at its memory limit and a slow script: read from the server, not made up.
  const figures = await import('@stateful-route/optimizer').then((m) => m.readRedisFigures(admin));
  expect(figures.usedMemory).toBeGreaterThan(0);
  expect(figures.maxMemory).toBe(0);
  expect(Array.isArray(figures.slowlog)).toBe(true);
});

test('applyActions: only, unknown ids, and failures reported with their code', async () => {
  const executor = unoptimised('apply');
  const findings: Finding[] = [
    {
      id: 'script-transport',
      severity: 'warning',
      title: 't',
      evidence: [],
      recommendation: 'r',
      action: { id: 'preload-scripts', description: 'd', safe: true },
    },
    {
      id: 'near-cache',
      severity: 'warning',
      title: 't',
      evidence: [],
      recommendation: 'r',
      action: { id: 'enable-near-cache', description: 'd', safe: true },
    },
  ];
  const done = await applyActions(executor, findings, { only: ['enable-near-cache'] });
  expect(done).toEqual([expect.objectContaining({ id: 'enable-near-cache', outcome: 'applied' })]);
  expect(executor.describe().scriptTransport).toBe('eval');
  expect(
    (await applyActions(executor, findings, { only: ['enable-near-cache'] }))[0],
  ).toMatchObject({
    outcome: 'skipped',
  });
  await expect(applyActions(executor, findings, { only: ['format-disk'] })).rejects.toMatchObject({
    code: 'SR_OPTIMIZER_INVALID_OPTION',
  });

  const cluster = new Cluster(inject('clusterSeeds'));
  cleanup.push(() => cluster.disconnect());
  const onCluster = createRedisExecutor({ redis: cluster, name: 'apply-cluster' });
  cleanup.push(() => onCluster.close());
  const result = await applyActions(onCluster, findings);
  expect(result).toEqual([
    expect.objectContaining({ id: 'preload-scripts', outcome: 'applied' }),
    expect.objectContaining({
      id: 'enable-near-cache',
      outcome: 'failed',
      errorCode: 'SR_UNSUPPORTED',
    }),
  ]);
});
