import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { afterAll, expect, inject, test } from 'vitest';
import {
  CHANNELS,
  createMemoryExecutor,
  createRedisExecutor,
  MemoryExecutor,
  namespaceKeyPattern,
  type OperationMessage,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import {
  compare,
  createAnalyzer,
  InvalidOptionError,
  runWorkload,
  type Analyzer,
} from '@stateful-route/analyzer';

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

test('rate caps the offered load: a run never makes more calls than rate x time', async () => {
  const executor = createMemoryExecutor({ name: 'workload-rate' });
  try {
    // The memory backend could make hundreds of thousands of calls per second here.
    const rate = 2000;
    const result = await runWorkload(executor, {
      durationMs: 1000,
      warmupMs: 0,
      concurrency: 16,
      rate,
    });
    expect(result.errors).toBe(0);
    // At most: the schedule's calls over the time it ran (one per worker may start at the
    // deadline). At least half: a busy machine may delay timers, not add calls.
    expect(result.operations).toBeLessThanOrEqual((rate * result.elapsedMs) / 1000 + 16);
    expect(result.operations).toBeGreaterThan(rate / 2);
    for (const rate of [0, -1, Number.NaN, Infinity]) {
      await expect(runWorkload(executor, { durationMs: 10, rate })).rejects.toMatchObject({
        code: 'SR_ANALYZER_INVALID_OPTION',
        option: 'rate',
      });
    }
  } finally {
    await executor.close();
  }
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
      // The warm-up is time-bound, so the number of its calls differs between runs.
      warmupMs: 0,
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
  // Placement operations are measured, not driven: the mix is the contract's.
  await expect(
    runWorkload(executor, { durationMs: 10, mix: { allocate: 1 } as never }),
  ).rejects.toMatchObject({
    code: 'SR_ANALYZER_INVALID_OPTION',
    option: 'mix',
    message: expect.stringContaining('"allocate" is a placement operation'),
  });
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

/** Every key of `namespace` on every master, by SCAN. */
async function namespaceKeys(client: Redis | Cluster, namespace: string): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', namespaceKeyPattern(namespace));
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** Counts the calls `executor` starts, warm-up included, from the operation channel. */
function countCalls(executor: StatefulExecutor): { count: () => number; stop: () => void } {
  let seen = 0;
  const channel = diagnostics.tracingChannel(CHANNELS.operation);
  const handlers = {
    start: (m: unknown) => {
      if ((m as OperationMessage).executor === executor.name) seen += 1;
    },
    end: () => {},
    asyncStart: () => {},
    asyncEnd: () => {},
    error: () => {},
  };
  channel.subscribe(handlers);
  return { count: () => seen, stop: () => channel.unsubscribe(handlers) };
}

test('on Redis, the run deletes every key it wrote, and keep: true keeps them', async () => {
  const executor = createRedisExecutor({ redis, name: 'cleanup-redis' });
  const namespace = uniqueNamespace('wl-clean');
  // A neighbour's data, under another namespace: never touched.
  const neighbour = uniqueNamespace('wl-user');
  await executor.setWorkloadState(neighbour, 'svc-0', '{"replicas":1}');
  await executor.setLinkedPod(neighbour, 'u-1', 'svc-0', { podId: 3, persistSeconds: -1 });
  const neighbourKeys = (await namespaceKeys(redis, neighbour)).sort();
  expect(neighbourKeys.length).toBe(3);
  try {
    const result = await runWorkload(executor, {
      durationMs: 300,
      warmupMs: 100,
      concurrency: 8,
      uids: 500,
      namespace,
    });
    expect(result.errors).toBe(0);
    expect(result.namespace).toBe(namespace);
    // State, workload, link and link-index keys were written, then all deleted.
    expect(result.deletedKeys).toBeGreaterThan(4 * 2 + 100);
    expect(await namespaceKeys(redis, namespace)).toEqual([]);
    expect((await namespaceKeys(redis, neighbour)).sort()).toEqual(neighbourKeys);

    const kept = await runWorkload(executor, {
      durationMs: 200,
      warmupMs: 0,
      concurrency: 8,
      uids: 500,
      namespace,
      keep: true,
    });
    expect(kept.deletedKeys).toBe(0);
    const left = await namespaceKeys(redis, namespace);
    expect(left).toContain(`sf:{${namespace}:state:svc-0}`);
    expect(left.some((key) => key.startsWith(`sf:{${namespace}:lk:`))).toBe(true);

    // The namespace now holds keys: a run that would delete them is refused, before writing.
    await expect(runWorkload(executor, { durationMs: 100, namespace })).rejects.toMatchObject({
      code: 'SR_ANALYZER_INVALID_OPTION',
      option: 'namespace',
    });
    expect((await namespaceKeys(redis, namespace)).sort()).toEqual(left.sort());
  } finally {
    await executor.deleteNamespaceKeys(namespace);
    await executor.deleteNamespaceKeys(neighbour);
    await executor.close();
  }
});

test('the default namespace is a fresh one per run, and nothing is left behind', async () => {
  const executor = createRedisExecutor({ redis, name: 'cleanup-default' });
  try {
    const a = await runWorkload(executor, { durationMs: 100, warmupMs: 50, concurrency: 4 });
    const b = await runWorkload(executor, { durationMs: 100, warmupMs: 50, concurrency: 4 });
    expect(a.namespace).toMatch(/^sr-bench-[0-9a-f]{8}$/);
    expect(b.namespace).not.toBe(a.namespace);
    expect(a.deletedKeys).toBeGreaterThan(0);
    expect(await namespaceKeys(redis, a.namespace)).toEqual([]);
    expect(await namespaceKeys(redis, b.namespace)).toEqual([]);
  } finally {
    await executor.close();
  }
});

test('the keys are deleted when the run ends by abort or by an error', async () => {
  const executor = createRedisExecutor({ redis, name: 'cleanup-abort' });
  try {
    const aborted = uniqueNamespace('wl-abort');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const result = await runWorkload(executor, {
      durationMs: 60_000,
      warmupMs: 50,
      concurrency: 8,
      namespace: aborted,
      signal: controller.signal,
    });
    expect(result.elapsedMs).toBeLessThan(60_000);
    expect(result.deletedKeys).toBeGreaterThan(0);
    expect(await namespaceKeys(redis, aborted)).toEqual([]);

    // The caller's analyzer fails when asked for the snapshot: the run rejects with that
    // error, and its keys are gone all the same.
    const failing = uniqueNamespace('wl-error');
    const real = createAnalyzer({ executor, processMetrics: false });
    const analyzer: Analyzer = { ...real, capture: () => Promise.reject(new Error('boom')) };
    await expect(
      runWorkload(executor, { durationMs: 150, warmupMs: 0, namespace: failing, analyzer }),
    ).rejects.toThrow('boom');
    real.close();
    expect(await namespaceKeys(redis, failing)).toEqual([]);
  } finally {
    await executor.close();
  }
});

test('on a cluster, the keys of every master are deleted', async () => {
  const cluster = new Cluster(inject('clusterSeeds'));
  const executor = createRedisExecutor({ redis: cluster, name: 'cleanup-cluster' });
  const namespace = uniqueNamespace('wlc-clean');
  try {
    const result = await runWorkload(executor, {
      durationMs: 300,
      warmupMs: 0,
      concurrency: 8,
      uids: 2000,
      namespace,
    });
    expect(result.errors).toBe(0);
    // Link keys hash to slots on every master; SCAN of each finds none left.
    expect(result.deletedKeys).toBeGreaterThan(100);
    expect(await namespaceKeys(cluster, namespace)).toEqual([]);
  } finally {
    await executor.close();
    cluster.disconnect();
  }
});

test('on the memory backend, the run deletes its keys, and keep: true keeps them', async () => {
  const executor = createMemoryExecutor({ name: 'cleanup-memory' });
  const ofNamespace = (namespace: string): string[] =>
    Object.keys(executor.dump()).filter((key) => key.startsWith(`sf:{${namespace}:`));
  try {
    await executor.setWorkloadState('mine', 'svc-0', '{}');
    const result = await runWorkload(executor, { durationMs: 100, warmupMs: 20, namespace: 'wl' });
    expect(result.deletedKeys).toBeGreaterThan(8);
    expect(ofNamespace('wl')).toEqual([]);
    expect(ofNamespace('mine')).toEqual(['sf:{mine:workload:svc-0}']);
    await runWorkload(executor, { durationMs: 100, warmupMs: 0, namespace: 'wl', keep: true });
    expect(ofNamespace('wl').length).toBeGreaterThan(8);
    await expect(
      runWorkload(executor, { durationMs: 50, namespace: 'mine' }),
    ).rejects.toMatchObject({ code: 'SR_ANALYZER_INVALID_OPTION', option: 'namespace' });
  } finally {
    await executor.close();
  }
});

test('an executor that cannot delete a namespace runs only with keep: true', async () => {
  const memory = createMemoryExecutor({ name: 'no-maintenance' });
  // The same executor without the maintenance methods, as a third-party one would be.
  const plain = new Proxy(memory, {
    get: (target, property) => {
      if (property === 'hasNamespaceKeys' || property === 'deleteNamespaceKeys') return undefined;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  }) as StatefulExecutor;
  try {
    await expect(runWorkload(plain, { durationMs: 50 })).rejects.toMatchObject({
      code: 'SR_ANALYZER_INVALID_OPTION',
      option: 'keep',
    });
    const kept = await runWorkload(plain, { durationMs: 50, warmupMs: 0, keep: true });
    expect(kept.operations).toBeGreaterThan(0);
  } finally {
    await memory.close();
  }
});

test('warm-up calls are counted nowhere: not in the result, not in the snapshot', async () => {
  const executor = createRedisExecutor({ redis, name: 'warmup-redis' });
  const calls = countCalls(executor);
  try {
    const result = await runWorkload(executor, {
      durationMs: 300,
      warmupMs: 300,
      concurrency: 8,
      prepare: false,
      redis,
    });
    calls.stop();
    expect(result.warmupOperations).toBeGreaterThan(0);
    // The executor served warm-up and measured calls; the run reports only the latter.
    expect(calls.count()).toBe(result.warmupOperations + result.operations);
    expect(result.snapshot.totals.count).toBe(result.operations);
    // The Redis figures start after the warm-up too: getServiceState is one HGETALL.
    const hgetall = result.snapshot.redis?.commandstats.hgetall?.calls ?? 0;
    expect(hgetall).toBeLessThan(result.snapshot.operations.getServiceState!.count * 1.05 + 5);
    await expect(runWorkload(executor, { durationMs: 10, warmupMs: -1 })).rejects.toMatchObject({
      option: 'warmupMs',
    });
  } finally {
    calls.stop();
    await executor.close();
  }
});

/**
 * A backend with a cold start, as a fresh process, connection or script cache has one: for
 * its first 700 ms of traffic a getServiceState takes 200 ms, afterwards 10 ms (inside the
 * timed call, so the telemetry sees it). Timer delays make the noise: a few ms at most
 * under load, small against the cold start's factor of 20.
 */
class ColdStartExecutor extends MemoryExecutor {
  #firstCall: number | undefined;
  protected override async doGetServiceState(
    ns: string,
    svc: string,
  ): Promise<Record<number, string>> {
    const now = performance.now();
    this.#firstCall ??= now;
    await sleep(now - this.#firstCall < 700 ? 200 : 10);
    return super.doGetServiceState(ns, svc);
  }
}

test('two identical runs compare as unchanged with the warm-up; without it the cold one shows as a change', async () => {
  // Tolerant: a change counts only from 80%, so the noise between two runs does not; the
  // cold start is a change of about 95% in the median of getServiceState.
  const options = { concurrency: 8, durationMs: 500, prepare: false, progressIntervalMs: 100 };
  const pair = async (warmupMs: number) => {
    const executor = new ColdStartExecutor({ name: `cold-${warmupMs}` });
    try {
      const first = await runWorkload(executor, { ...options, warmupMs });
      const second = await runWorkload(executor, { ...options, warmupMs });
      const comparison = compare(first.snapshot, second.snapshot, { minChange: 0.8 });
      return comparison.operations.find((op) => op.operation === 'getServiceState')!;
    } finally {
      await executor.close();
    }
  };

  // Without a warm-up, the first run measured the cold start: a false improvement.
  const cold = await pair(0);
  expect(cold.change.p50).toBeLessThan(-0.8);
  expect(cold.verdict).toBe('improvement');

  // With a warm-up longer than the cold start, both runs measure the warm backend.
  const warm = await pair(900);
  expect(Math.abs(warm.change.p50!)).toBeLessThan(0.8);
  expect(warm.verdict).toBe('unchanged');
});
