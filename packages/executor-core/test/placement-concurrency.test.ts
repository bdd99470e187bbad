/**
 * Issue 17: no pod ever holds more claims than its capacity, whatever the number of routers.
 * 8 executors, each on its own connection, keep 64 allocations in flight each: 100 000
 * distinct uids over 50 pods, on a standalone Redis and on the 3-master Cluster. While they
 * run, `placement()` is sampled from a ninth executor; at the end every claim is audited
 * against the links that exist.
 */
import { afterAll, describe, expect, test } from 'vitest';
import {
  createRedisExecutor,
  placementKeys,
  type PlacementStrategy,
  type RedisExecutor,
} from '@stateful-route/executor-core';
import { freshNamespace, redisClient, REDIS_BACKENDS } from './helpers/harness.js';

const PODS = 50;
const REQUESTS = 100_000;
const EXECUTORS = 8;
const IN_FLIGHT = 64;
const SVC = 'room';

interface Run {
  linked: number;
  refused: number;
  failures: unknown[];
  /** Samples taken during the run: the highest load - capacity seen, and the spreads. */
  samples: number;
  worstOverCapacity: number;
  /** max/avg load of each sample whose average load was at least 100. */
  spreads: number[];
  /** Final load per pod, and the links that exist per pod. */
  loads: Map<number, number>;
  links: Map<number, number>;
  claims: number;
  seconds: number;
}

const opened: RedisExecutor[] = [];
afterAll(async () => {
  await Promise.all(opened.map((executor) => executor.close()));
});

function executorOn(backend: 'standalone' | 'cluster', name: string): RedisExecutor {
  const executor = createRedisExecutor({
    redis: redisClient(backend, true),
    name,
    closeClients: true,
    commandTimeoutMs: 30_000,
  });
  opened.push(executor);
  return executor;
}

async function allocateAll(
  backend: 'standalone' | 'cluster',
  strategy: PlacementStrategy,
  capacity: number,
): Promise<Run> {
  const ns = freshNamespace();
  const routers = Array.from({ length: EXECUTORS }, (_, i) => executorOn(backend, `router-${i}`));
  const observer = executorOn(backend, 'observer');
  for (let pod = 0; pod < PODS; pod++) {
    await observer.registerPod(ns, SVC, pod, { capacity, ttlSeconds: 3600 });
  }
  const run: Run = {
    linked: 0,
    refused: 0,
    failures: [],
    samples: 0,
    worstOverCapacity: -Infinity,
    spreads: [],
    loads: new Map(),
    links: new Map(),
    claims: 0,
    seconds: 0,
  };
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const { pods } = await observer.placement(ns, SVC);
      const loads = Object.values(pods).map((pod) => pod.load);
      run.samples += 1;
      for (const pod of Object.values(pods)) {
        run.worstOverCapacity = Math.max(run.worstOverCapacity, pod.load - pod.capacity);
      }
      const avg = loads.reduce((a, b) => a + b, 0) / loads.length;
      if (avg >= 100) run.spreads.push(Math.max(...loads) / avg);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  let next = 0;
  const worker = async (router: RedisExecutor): Promise<void> => {
    while (next < REQUESTS) {
      const uid = `u-${next++}`;
      try {
        const allocation = await router.allocate(ns, uid, SVC, { persistSeconds: -1, strategy });
        if (allocation.created) run.linked += 1;
        else run.failures.push(new Error(`${uid} was not new`));
      } catch (error) {
        if ((error as { code?: string }).code === 'SR_NO_CAPACITY') run.refused += 1;
        else run.failures.push(error);
      }
    }
  };
  await Promise.all(
    routers.flatMap((router) => Array.from({ length: IN_FLIGHT }, () => worker(router))),
  );
  run.seconds = (performance.now() - started) / 1000;
  done = true;
  await sampler;

  // The audit: every claim against the links that exist.
  const { pods } = await observer.placement(ns, SVC);
  for (const [pod, figures] of Object.entries(pods)) run.loads.set(Number(pod), figures.load);
  let cursor: string | null = null;
  do {
    const page = await observer.scanLinks(ns, { service: SVC, count: 10_000, cursor });
    for (const link of page.links) {
      run.links.set(link.podId, (run.links.get(link.podId) ?? 0) + 1);
    }
    cursor = page.cursor;
  } while (cursor !== null);
  const raw = redisClient(backend);
  try {
    run.claims = await raw.hlen(placementKeys(ns, SVC).claim);
  } finally {
    raw.disconnect();
  }
  await observer.deleteNamespaceKeys(ns);
  console.log(
    `placement ${backend} ${strategy}: ${REQUESTS} allocations in ${run.seconds.toFixed(1)} s ` +
      `(${Math.round(REQUESTS / run.seconds)}/s), linked ${run.linked}, refused ${run.refused}, ` +
      `${run.samples} samples, worst load - capacity ${run.worstOverCapacity}`,
  );
  return run;
}

function expectAudited(run: Run, capacity: number): void {
  expect(run.failures).toEqual([]);
  expect(run.linked + run.refused).toBe(REQUESTS);
  expect(run.linked).toBe(Math.min(REQUESTS, PODS * capacity));
  expect(run.samples).toBeGreaterThan(0);
  expect(run.worstOverCapacity).toBeLessThanOrEqual(0);
  // Claims equal links, pod by pod: no claim without its link, no link without its claim.
  expect(run.claims).toBe(run.linked);
  for (const [pod, load] of run.loads) {
    expect(load, `pod ${pod}`).toBeLessThanOrEqual(capacity);
    expect(run.links.get(pod) ?? 0, `links of pod ${pod}`).toBe(load);
  }
  expect([...run.links.values()].reduce((a, b) => a + b, 0)).toBe(run.linked);
}

describe.each(REDIS_BACKENDS as ('standalone' | 'cluster')[])(
  'placement under 8 routers x 64 in flight on %s',
  (backend) => {
    test('least-loaded: 100 000 uids over 50 pods of 1 800 (90 000 places)', async () => {
      const capacity = 1800;
      const run = await allocateAll(backend, 'least-loaded', capacity);
      expectAudited(run, capacity);
      expect(run.refused).toBe(REQUESTS - PODS * capacity);
      // Spread while it ran, not only once every pod is full.
      expect(run.spreads.length).toBeGreaterThan(0);
      expect(Math.max(...run.spreads)).toBeLessThanOrEqual(1.25);
    }, 300_000);

    test('packed: 100 000 uids over 50 pods of 2 200 fill at most ceil(N/C) + 1 pods', async () => {
      const capacity = 2200;
      const run = await allocateAll(backend, 'packed', capacity);
      expectAudited(run, capacity);
      const inUse = [...run.loads.values()].filter((load) => load > 0).length;
      expect(inUse).toBeLessThanOrEqual(Math.ceil(REQUESTS / capacity) + 1);
    }, 300_000);
  },
);
