import diagnostics from 'node:diagnostics_channel';
import { Cluster, Redis } from 'ioredis';
import { afterAll, expect, inject, test } from 'vitest';
import {
  CHANNELS,
  createMemoryExecutor,
  createRedisExecutor,
  type OperationMessage,
} from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { createAnalyzer, InvalidOptionError, runWorkload } from '@stateful-route/analyzer';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.disconnect());

test('drives the default mix against real Redis and measures it', async () => {
  const executor = createRedisExecutor({ redis, name: 'workload-test' });
  const progress: number[] = [];
  const result = await runWorkload(executor, {
    durationMs: 1200,
    concurrency: 16,
    namespace: uniqueNamespace('wl'),
    redis,
    progressIntervalMs: 200,
    onProgress: (p) => progress.push(p.operations),
  });
  await executor.close();

  expect(result.errors).toBe(0);
  expect(result.operations).toBeGreaterThan(100);
  expect(result.elapsedMs).toBeGreaterThanOrEqual(1200);
  expect(result.elapsedMs).toBeLessThan(5000);
  const snap = result.snapshot;
  expect(snap.schemaVersion).toBe(1);
  expect(snap.source).toBe('live');
  expect(snap.provenance.backend).toBe('redis');
  expect(snap.provenance.topology).toBe('standalone');
  expect(snap.provenance.executor).toBe('workload-test');
  expect(snap.provenance.packages['@stateful-route/analyzer']).toMatch(/^\d+\.\d+\.\d+/);
  // The analyzer counted exactly what the workers completed.
  expect(snap.totals.count).toBe(result.operations);
  // The hottest read dominates, as in the default mix.
  const reads = snap.operations.getServiceState?.count ?? 0;
  const ifAbsent = snap.operations.setLinkedPodIfAbsent?.count ?? 0;
  expect(reads).toBeGreaterThan(ifAbsent);
  expect(ifAbsent).toBeGreaterThan(snap.operations.setServiceState?.count ?? 0);
  expect(snap.operations.getServiceState?.latency.p50).toBeGreaterThan(0);
  expect(snap.concurrency?.maxInFlight).toBeLessThanOrEqual(16);
  expect(snap.concurrency?.maxInFlight).toBeGreaterThan(1);
  // Redis saw the calls: HGETALL for getServiceState, scripts for the links.
  expect(snap.redis?.commandstats.hgetall?.calls).toBeGreaterThanOrEqual(reads);
  expect(snap.redis?.stats.totalCommandsProcessed).toBeGreaterThan(result.operations / 2);
  expect(snap.executorStats).toBeDefined();
  expect(snap.provenance.scriptTransport).toBe('evalsha');
  expect(snap.provenance.autoPipelining).toBe(false);
  expect(progress.length).toBeGreaterThanOrEqual(3);
  expect(progress.at(-1)).toBe(result.operations);
  expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
});

test('on the memory backend, the analyzer counts what the workers completed, in flight too', async () => {
  const executor = createMemoryExecutor({ name: 'workload-memory' });
  try {
    const result = await runWorkload(executor, { durationMs: 300, concurrency: 16 });
    expect(result.errors).toBe(0);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(result.snapshot.totals.count).toBe(result.operations);
    // Calls settle in microtasks here: none is in flight when a timer runs, so the workload
    // shows the analyzer moments when they are.
    expect(result.snapshot.concurrency?.maxInFlight).toBeLessThanOrEqual(16);
    expect(result.snapshot.concurrency?.maxInFlight).toBeGreaterThan(1);
  } finally {
    await executor.close();
  }
});

test('the same seed gives the same sequence of calls', async () => {
  const counts = [];
  for (let run = 0; run < 2; run += 1) {
    const executor = createMemoryExecutor({ name: `seeded-${run}` });
    const seen: string[] = [];
    const analyzer = createAnalyzer({ executor, processMetrics: false });
    const channel = diagnostics.tracingChannel(CHANNELS.operation);
    const handlers = {
      start: (m: unknown) => {
        if ((m as OperationMessage).executor === executor.name) {
          seen.push((m as OperationMessage).operation);
        }
      },
      end: () => {},
      asyncStart: () => {},
      asyncEnd: () => {},
      error: () => {},
    };
    channel.subscribe(handlers);
    // One worker: the order of calls is then fully determined by the seed.
    await runWorkload(executor, {
      durationMs: 50,
      concurrency: 1,
      seed: 42,
      namespace: 'seeded',
      prepare: false,
      analyzer,
    });
    channel.unsubscribe(handlers);
    analyzer.close();
    await executor.close();
    counts.push(seen);
  }
  const n = Math.min(counts[0]!.length, counts[1]!.length);
  expect(n).toBeGreaterThan(10);
  expect(counts[0]!.slice(0, n)).toEqual(counts[1]!.slice(0, n));
});

test('stops early on abort and rejects bad options', async () => {
  const executor = createMemoryExecutor({ name: 'abort' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = Date.now();
  await runWorkload(executor, { durationMs: 10_000, signal: controller.signal });
  // Ignoring the abort would take the full 10 s; the margin below that is for a loaded
  // 2-core CI machine (2.1 s was seen with other suites running).
  expect(Date.now() - started).toBeLessThan(5000);
  await expect(runWorkload(executor, { durationMs: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
  await expect(
    runWorkload(executor, { durationMs: 10, mix: { nope: 1 } as never }),
  ).rejects.toMatchObject({ code: 'SR_ANALYZER_INVALID_OPTION', option: 'mix' });
  await executor.close();
});

test('on a cluster, Redis figures are summed over every master', async () => {
  const cluster = new Cluster(inject('clusterSeeds'));
  const executor = createRedisExecutor({ redis: cluster, name: 'workload-cluster' });
  try {
    const result = await runWorkload(executor, {
      durationMs: 600,
      concurrency: 8,
      namespace: uniqueNamespace('wlc'),
      redis: cluster,
    });
    expect(result.errors).toBe(0);
    const snap = result.snapshot;
    expect(snap.provenance.topology).toBe('cluster');
    expect(snap.redis?.nodes).toBe(3);
    // Every getServiceState is one HGETALL on some master: the sum sees them all.
    expect(snap.redis?.commandstats.hgetall?.calls).toBeGreaterThanOrEqual(
      snap.operations.getServiceState?.count ?? Infinity,
    );
    // The analyzer's own INFO probes are not counted as traffic.
    expect(snap.redis?.commandstats.info).toBeUndefined();
  } finally {
    await executor.close();
    cluster.disconnect();
  }
});

test('the provenance says how the executor was configured when the snapshot was taken', async () => {
  const executor = createRedisExecutor({ redis, name: 'switching' });
  const analyzer = createAnalyzer({ executor, processMetrics: false });
  try {
    expect(analyzer.snapshot().provenance.scriptTransport).toBe('evalsha');
    executor.setScriptTransport('eval');
    expect(analyzer.snapshot().provenance.scriptTransport).toBe('eval');
  } finally {
    analyzer.close();
    await executor.close();
  }
});
