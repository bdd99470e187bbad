/**
 * Placement on a Redis Cluster is four single-slot steps (docs/placement.md): existing link? /
 * claim / link-if-absent / settle. A router that dies between two steps must leave at worst
 * an extra claim (I2: load covers links), which a reconcile pass frees or confirms. The steps
 * are run here one by one with the package's own scripts, as a router would until it died,
 * and then the executor's reconcile repairs what was left. Also: many routers allocating the
 * same uids at once link each uid once and leave one claim per link.
 */
import { readFileSync } from 'node:fs';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createRedisExecutor,
  linkIndexKey,
  linkKey,
  PENDING_GRACE_MS,
  placementKeys,
  type RedisExecutor,
} from '@stateful-route/executor-core';
import { freshNamespace, redisClient } from './helpers/harness.js';

const SVC = 'room';
const lua = (path: string): string =>
  readFileSync(new URL(`../lua/${path}.lua`, import.meta.url), 'utf8');
const LIB = lua('placement/lib');
const CLAIM = `${LIB}\n${lua('placement/claim')}`;
const LINK = lua('placement-link');

let raw: Cluster;
let executor: RedisExecutor;
const routers: RedisExecutor[] = [];

beforeAll(async () => {
  raw = redisClient('cluster') as Cluster;
  executor = createRedisExecutor({ redis: redisClient('cluster'), closeClients: true });
  for (let i = 0; i < 8; i++) {
    routers.push(
      createRedisExecutor({
        redis: redisClient('cluster', true),
        name: `router-${i}`,
        closeClients: true,
      }),
    );
  }
});

afterAll(async () => {
  raw.disconnect();
  await Promise.all([executor, ...routers].map((e) => e.close()));
});

function serviceKeys(ns: string): string[] {
  const k = placementKeys(ns, SVC);
  return [k.cap, k.lease, k.drain, k.load, k.claim, k.exp, k.pending, k.free];
}

// Step 2 as a router runs it, then nothing more (the router dies).
async function claimOnly(ns: string, uid: string): Promise<string> {
  const reply = (await raw.eval(
    CLAIM,
    8,
    ...serviceKeys(ns),
    placementKeys(ns, SVC).uidsPrefix,
    uid,
    '-1',
    'least-loaded',
    String(PENDING_GRACE_MS),
  )) as [number, string];
  expect(reply[0]).toBe(1);
  return String(reply[1]);
}

// A pending claim older than the grace, as if the router had died that long ago.
async function age(ns: string, uid: string): Promise<void> {
  await raw.zadd(placementKeys(ns, SVC).pending, Date.now() - PENDING_GRACE_MS - 1000, uid);
}

async function audit(ns: string): Promise<{ loads: Record<string, number>; links: number }> {
  const { pods } = await executor.placement(ns, SVC);
  const loads = Object.fromEntries(Object.entries(pods).map(([pod, p]) => [pod, p.load]));
  let links = 0;
  let cursor: string | null = null;
  do {
    const page = await executor.scanLinks(ns, { service: SVC, count: 1000, cursor });
    links += page.links.length;
    cursor = page.cursor;
  } while (cursor !== null);
  return { loads, links };
}

describe('a router dying between the Cluster steps of allocate', () => {
  test('after the claim, before the link: one extra claim, freed by reconcile after the grace', async () => {
    const ns = freshNamespace();
    await executor.registerPod(ns, SVC, 1, { capacity: 1, ttlSeconds: 60 });
    await claimOnly(ns, 'u-1');
    // I2 holds (no link, one claim) and I1 too: the pod is full for everyone else.
    expect(await audit(ns)).toEqual({ loads: { 1: 1 }, links: 0 });
    await expect(executor.allocate(ns, 'u-2', SVC, { persistSeconds: -1 })).rejects.toMatchObject({
      code: 'SR_NO_CAPACITY',
    });
    // Within the grace the claim is left alone: the router may still be linking.
    expect(await executor.reconcilePlacement(ns, SVC)).toMatchObject({ released: 0 });
    await age(ns, 'u-1');
    expect(await executor.reconcilePlacement(ns, SVC)).toMatchObject({
      checked: 1,
      released: 1,
      confirmed: 0,
    });
    expect(await audit(ns)).toEqual({ loads: { 1: 0 }, links: 0 });
    await expect(executor.allocate(ns, 'u-2', SVC, { persistSeconds: -1 })).resolves.toMatchObject({
      podId: 1,
      created: true,
    });
  });

  test('after the link, before settling: the claim is confirmed by reconcile, not freed', async () => {
    const ns = freshNamespace();
    await executor.registerPod(ns, SVC, 4, { capacity: 2, ttlSeconds: 60 });
    const pod = await claimOnly(ns, 'u-1');
    await raw.eval(LINK, 2, linkKey(ns, 'u-1', SVC), linkIndexKey(ns, 'u-1'), SVC, pod, '-1');
    expect(await audit(ns)).toEqual({ loads: { 4: 1 }, links: 1 });
    await age(ns, 'u-1');
    expect(await executor.reconcilePlacement(ns, SVC)).toMatchObject({
      checked: 1,
      released: 0,
      confirmed: 1,
    });
    expect(await raw.zcard(placementKeys(ns, SVC).pending)).toBe(0);
    expect(await audit(ns)).toEqual({ loads: { 4: 1 }, links: 1 });
    // A release then frees it like any claim.
    expect(await executor.release(ns, 'u-1', SVC)).toEqual({ released: true, podId: 4 });
    expect(await audit(ns)).toEqual({ loads: { 4: 0 }, links: 0 });
  });

  test('a retry of the same uid after a crash reuses the claim instead of taking a second one', async () => {
    const ns = freshNamespace();
    await executor.registerPod(ns, SVC, 2, { capacity: 5, ttlSeconds: 60 });
    await claimOnly(ns, 'u-1');
    const allocation = await executor.allocate(ns, 'u-1', SVC, { persistSeconds: -1 });
    expect(allocation).toEqual({ podId: 2, created: true, load: 1, capacity: 5 });
    expect(await raw.zcard(placementKeys(ns, SVC).pending)).toBe(0);
    expect(await audit(ns)).toEqual({ loads: { 2: 1 }, links: 1 });
  });

  test('another writer linking the uid between the steps wins, and our claim is freed at once', async () => {
    const ns = freshNamespace();
    await executor.registerPod(ns, SVC, 1, { capacity: 5, ttlSeconds: 60 });
    await executor.registerPod(ns, SVC, 2, { capacity: 5, ttlSeconds: 60 });
    // The uid is linked by a Java service right after step 1 of our allocate saw no link:
    // simulated by claiming first (steps 1-2), then the other writer, then steps 3-4 through
    // a second allocate of the same uid (which reuses the claim and settles).
    await claimOnly(ns, 'u-1');
    await executor.setLinkedPod(ns, 'u-1', SVC, { podId: 2, persistSeconds: -1 });
    const settled = await executor.allocate(ns, 'u-1', SVC, { persistSeconds: -1 });
    expect(settled).toMatchObject({ podId: 2, created: false });
    // Step 1 of that allocate saw the link: our pending claim waits for reconcile.
    await age(ns, 'u-1');
    await executor.reconcilePlacement(ns, SVC);
    const { pods } = await executor.placement(ns, SVC);
    expect(pods[1]!.load).toBe(0);
  });
});

describe('8 routers allocating the same uids at once on a Cluster', () => {
  test('each uid is linked once, with exactly one claim', async () => {
    const ns = freshNamespace();
    for (let pod = 0; pod < 10; pod++) {
      await executor.registerPod(ns, SVC, pod, { capacity: 100, ttlSeconds: 60 });
    }
    const uids = Array.from({ length: 500 }, (_, i) => `u-${i}`);
    const results = await Promise.all(
      routers.flatMap((router) =>
        uids.map((uid) => router.allocate(ns, uid, SVC, { persistSeconds: -1 })),
      ),
    );
    const podOf = new Map<string, Set<number>>();
    results.forEach((result, i) => {
      const uid = uids[i % uids.length]!;
      const seen = podOf.get(uid) ?? new Set();
      seen.add(result.podId);
      podOf.set(uid, seen);
    });
    // Every router got the same pod for a uid, and exactly one of them created the link.
    for (const [uid, pods] of podOf) expect(pods.size, uid).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(uids.length);
    const { loads, links } = await audit(ns);
    expect(links).toBe(uids.length);
    expect(Object.values(loads).reduce((a, b) => a + b, 0)).toBe(uids.length);
    expect(await raw.hlen(placementKeys(ns, SVC).claim)).toBe(uids.length);
    expect(await raw.zcard(placementKeys(ns, SVC).pending)).toBe(0);
  });
});
