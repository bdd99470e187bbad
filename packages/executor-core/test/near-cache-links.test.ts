// Links in the near cache (issue 15): a cached link answers getLinkedPod,
// getLinkedPodIfPersist and setLinkedPodIfAbsent without a round trip, exactly as Redis would
// have; it is never served past its expiry, and every write by anyone (our scripts, a raw
// SET or DEL, PERSIST, an expiry) reaches it within the staleness bound. On a server of its
// own with DEBUG enabled, so that Redis' active expiry can be switched off: then only our own
// expiry clock stands between a cached link and a dead key.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { createRedisExecutor, linkKey, type RedisExecutor } from '@stateful-route/executor-core';
import { ownRedis } from './helpers/own-redis.js';
import { seededRandom, StalenessChecker, untilSeen } from './helpers/staleness.js';

const own = ownRedis({ args: ['--enable-debug-command', 'yes'] });

async function cachedExecutor(
  options: { links?: boolean; maxEntries?: number } = {},
): Promise<RedisExecutor> {
  const executor = createRedisExecutor({ redis: own.client(), name: 'near-links' });
  own.after(() => executor.close());
  await executor.enableNearCache({ heartbeatMs: 50, ...options });
  await executor.loadScripts();
  return executor;
}

/** Calls of the commands that read or write a link, from INFO commandstats. */
async function linkCommandCalls(admin: Redis): Promise<number> {
  const info = (await admin.info('commandstats')) as string;
  let calls = 0;
  for (const command of ['get', 'pttl', 'evalsha', 'eval', 'set', 'del']) {
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
    if (match) calls += Number(match[1]);
  }
  return calls;
}

describe('links in the near cache', () => {
  test('a live link answers getLinkedPod, getLinkedPodIfPersist and setLinkedPodIfAbsent without a round trip', async () => {
    const ns = uniqueNamespace('nl');
    const admin = own.client();
    const executor = await cachedExecutor();
    await executor.setLinkedPod(ns, 'perm', 'room', { podId: 3, persistSeconds: -1 });
    await executor.setLinkedPod(ns, 'temp', 'room', { podId: 4, persistSeconds: 300 });
    // First reads: misses (GET and PTTL of each).
    expect(await executor.getLinkedPod(ns, 'perm', 'room')).toBe(3);
    expect(await executor.getLinkedPod(ns, 'temp', 'room')).toBe(4);
    expect(await executor.getLinkedPod(ns, 'none', 'room')).toBe(-1);
    const hits = executor.stats().nearCacheHits;
    const calls = await linkCommandCalls(admin);
    for (let i = 0; i < 10; i++) {
      expect(await executor.getLinkedPod(ns, 'perm', 'room')).toBe(3);
      expect(await executor.getLinkedPodIfPersist(ns, 'perm', 'room')).toBe(3);
      expect(await executor.getLinkedPodIfPersist(ns, 'temp', 'room')).toBe(-1);
      expect(await executor.getLinkedPod(ns, 'none', 'room')).toBe(-1);
      // The script would reply the existing pod and change nothing (TTL not refreshed).
      expect(
        await executor.setLinkedPodIfAbsent(ns, 'temp', 'room', { podId: 9, persistSeconds: 300 }),
      ).toBe(4);
      expect(
        await executor.setLinkedPodIfAbsent(ns, 'perm', 'room', { podId: 9, persistSeconds: -1 }),
      ).toBe(3);
    }
    // Only INFO itself ran in between.
    expect(await linkCommandCalls(admin)).toBe(calls);
    expect(executor.stats().nearCacheHits - hits).toBe(60);
    expect(await admin.pttl(linkKey(ns, 'temp', 'room'))).toBeGreaterThan(290_000);

    // An absent link: setLinkedPodIfAbsent goes to Redis, links, and the next read sees it.
    expect(
      await executor.setLinkedPodIfAbsent(ns, 'none', 'room', { podId: 7, persistSeconds: 300 }),
    ).toBe(7);
    expect(await executor.getLinkedPod(ns, 'none', 'room')).toBe(7);
    expect(await admin.get(linkKey(ns, 'none', 'room'))).toBe('7');
  });

  test('read-your-writes: every link write and remove drops the cached link when acknowledged', async () => {
    const ns = uniqueNamespace('nl');
    const executor = await cachedExecutor();
    const read = () => executor.getLinkedPod(ns, 'u', 'room');
    await executor.setLinkedPod(ns, 'u', 'room', { podId: 1, persistSeconds: 300 });
    expect(await read()).toBe(1);
    expect(await read()).toBe(1); // cached
    await executor.setLinkedPod(ns, 'u', 'room', { podId: 2, persistSeconds: -1 });
    expect(await read()).toBe(2);
    expect(await executor.getLinkedPodIfPersist(ns, 'u', 'room')).toBe(2);
    // Refused (permanent, another pod): nothing changes, the link still reads 2.
    expect(
      (await executor.trySetLinkedPod(ns, 'u', 'room', { podId: 5, persistSeconds: -1 })).linked,
    ).toBe(false);
    expect(await read()).toBe(2);
    await executor.setLinkedPod(ns, 'u', 'room', { podId: 3, persistSeconds: 300 });
    expect(await executor.getLinkedPodIfPersist(ns, 'u', 'room')).toBe(-1);
    expect(
      (await executor.trySetLinkedPod(ns, 'u', 'room', { podId: 5, persistSeconds: -1 })).linked,
    ).toBe(true);
    expect(await read()).toBe(5);
    expect(await executor.removeLinkedPodWithId(ns, 'u', 'room', { podId: 4 })).toBe(false);
    expect(await read()).toBe(5);
    expect(await executor.removeLinkedPodWithId(ns, 'u', 'room', { podId: 5 })).toBe(true);
    expect(await read()).toBe(-1);
    await executor.setLinkedPod(ns, 'u', 'room', { podId: 6, persistSeconds: -1 });
    expect(await read()).toBe(6);
    expect(await executor.removeLinkedPod(ns, 'u', 'room')).toBe(true);
    expect(await read()).toBe(-1);
    expect(
      await executor.setLinkedPodIfAbsent(ns, 'u', 'room', { podId: 8, persistSeconds: -1 }),
    ).toBe(8);
    expect(await read()).toBe(8);
  });

  test('raw writers: SET, DEL, PEXPIRE and PERSIST by another client reach the cached link within the bound', async () => {
    const ns = uniqueNamespace('nl');
    const admin = own.client();
    const executor = await cachedExecutor();
    const key = linkKey(ns, 'u', 'room');
    const read = () => executor.getLinkedPod(ns, 'u', 'room');
    const persistent = () => executor.getLinkedPodIfPersist(ns, 'u', 'room');
    await admin.set(key, '1');
    expect(await read()).toBe(1);
    const hits = executor.stats().nearCacheHits;
    expect(await read()).toBe(1);
    expect(executor.stats().nearCacheHits).toBe(hits + 1);
    const seen: number[] = [];
    await admin.set(key, '2');
    seen.push(await untilSeen(read, 2));
    await admin.pexpire(key, 60_000);
    seen.push(await untilSeen(persistent, -1));
    await admin.persist(key);
    seen.push(await untilSeen(persistent, 2));
    await admin.del(key);
    seen.push(await untilSeen(read, -1));
    expect(
      await executor.setLinkedPodIfAbsent(ns, 'u', 'room', { podId: 4, persistSeconds: -1 }),
    ).toBe(4);
    await admin.set(key, '5');
    seen.push(
      await untilSeen(
        () => executor.setLinkedPodIfAbsent(ns, 'u', 'room', { podId: 9, persistSeconds: -1 }),
        5,
      ),
    );
    console.log(`raw link writes seen after ${seen.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  });

  test('a cached link is never served past its expiry, even while Redis has not deleted the key', async () => {
    const ns = uniqueNamespace('nl');
    const admin = own.client();
    const executor = await cachedExecutor();
    const key = linkKey(ns, 'u', 'room');
    // No active expiry: Redis deletes (and so invalidates) an expired key only when someone
    // touches it, and the cache does not.
    await admin.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    own.after(() => admin.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1'));
    for (let round = 0; round < 3; round++) {
      await admin.set(key, String(round + 1), 'PX', 200);
      const expiredBy = performance.now() + 201; // dead by then (Redis counts whole ms)
      expect(await executor.getLinkedPod(ns, 'u', 'room')).toBe(round + 1);
      let hits = 0;
      let after = 0;
      const violations: string[] = [];
      while (after < 20) {
        const started = performance.now();
        const hitsBefore = executor.stats().nearCacheHits;
        const pod = await executor.getLinkedPod(ns, 'u', 'room');
        if (executor.stats().nearCacheHits > hitsBefore) hits++;
        if (started >= expiredBy) {
          after++;
          if (pod !== -1)
            violations.push(`read at +${(started - expiredBy).toFixed(1)} ms: ${pod}`);
        }
        await sleep(2);
      }
      expect(violations).toEqual([]);
      expect(hits).toBeGreaterThan(5); // it was served from the cache until then
      // setLinkedPodIfAbsent on the expired link links anew.
      expect(
        await executor.setLinkedPodIfAbsent(ns, 'u', 'room', {
          podId: 10 + round,
          persistSeconds: 300,
        }),
      ).toBe(10 + round);
      await admin.del(key);
    }
  });

  test('links: false leaves links out: no link prefix tracked, every link read goes to Redis', async () => {
    const ns = uniqueNamespace('nl');
    const admin = own.client();
    const data = own.client();
    const executor = createRedisExecutor({ redis: data, name: 'near-no-links' });
    own.after(() => executor.close());
    await executor.enableNearCache({ links: false });
    await executor.setLinkedPod(ns, 'u', 'room', { podId: 3, persistSeconds: -1 });
    await executor.getServiceState(ns, 'room'); // registers the namespace
    const calls = await linkCommandCalls(admin);
    for (let i = 0; i < 5; i++) expect(await executor.getLinkedPod(ns, 'u', 'room')).toBe(3);
    expect(await linkCommandCalls(admin)).toBe(calls + 5);
    const prefixes = ((await data.call('CLIENT', 'TRACKINGINFO')) as unknown[])[5] as string[];
    expect(prefixes).toEqual(expect.arrayContaining([`sf:{${ns}:state:`]));
    expect(prefixes.some((p) => p.includes(':lk:'))).toBe(false);
    await expect(executor.enableNearCache({ links: 'yes' as never })).rejects.toMatchObject({
      code: 'SR_VALIDATION',
      field: 'nearCache.links',
    });
  });

  test('randomized: raw and script writers, cached readers of every kind; no read older than the last ack by more than the bound', async () => {
    const ns = uniqueNamespace('nl');
    const executor = createRedisExecutor({
      redis: [own.client(), own.client()],
      name: 'near-links-random',
    });
    own.after(() => executor.close());
    await executor.enableNearCache({ maxEntries: 4 }); // small: eviction happens too
    await executor.loadScripts();
    // Another router's executor, without a cache, and raw clients write the links.
    const other = createRedisExecutor({ redis: own.client(), name: 'other-router' });
    own.after(() => other.close());
    const raw = own.client();
    const uids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const boundMs = 100;
    const checker = new StalenessChecker(uids, boundMs);
    for (const uid of uids) await raw.set(linkKey(ns, uid, 'room'), '0');
    let version = 0;
    const random = seededRandom(7);
    const until = performance.now() + 1500;
    let reads = 0;
    // Each writer owns some uids, so the versions of one link are written in order; every
    // version is permanent (getLinkedPodIfPersist answers it, setLinkedPodIfAbsent returns it).
    const writers = [
      (uid: string, v: number) => raw.set(linkKey(ns, uid, 'room'), String(v)),
      (uid: string, v: number) =>
        other.setLinkedPod(ns, uid, 'room', { podId: v, persistSeconds: -1 }),
      (uid: string, v: number) =>
        executor.setLinkedPod(ns, uid, 'room', { podId: v, persistSeconds: -1 }),
    ];
    const writerLoop = async (index: number) => {
      const mine = uids.filter((_, i) => i % writers.length === index);
      while (performance.now() < until) {
        const uid = mine[Math.floor(random() * mine.length)]!;
        const v = ++version;
        await writers[index]!(uid, v);
        checker.acked(uid, v);
        await sleep(random() * 5);
      }
    };
    const readers = [
      (uid: string) => executor.getLinkedPod(ns, uid, 'room'),
      (uid: string) => executor.getLinkedPodIfPersist(ns, uid, 'room'),
      (uid: string) =>
        executor.setLinkedPodIfAbsent(ns, uid, 'room', { podId: 999_999, persistSeconds: -1 }),
    ];
    const readerLoop = async () => {
      while (performance.now() < until) {
        const uid = uids[Math.floor(random() * uids.length)]!;
        const started = performance.now();
        checker.read(uid, started, await readers[Math.floor(random() * readers.length)]!(uid));
        reads++;
        if (random() < 0.3) await sleep(0);
      }
    };
    await Promise.all([
      ...writers.map((_, i) => writerLoop(i)),
      ...Array.from({ length: 8 }, readerLoop),
    ]);
    const stats = executor.stats();
    console.log(
      `randomized links: ${reads} reads, ${version} writes, hits ${stats.nearCacheHits}, ` +
        `misses ${stats.nearCacheMisses}, invalidations ${stats.nearCacheInvalidations}`,
    );
    expect(checker.violations).toEqual([]);
    expect(stats.nearCacheHits).toBeGreaterThan(100);
    expect(stats.nearCacheInvalidations).toBeGreaterThan(10);
    for (const uid of uids) {
      await untilSeen(() => executor.getLinkedPod(ns, uid, 'room'), checker.last(uid));
    }
  });

  test('randomized expiries: no read that began after a link expired returns it', async () => {
    const ns = uniqueNamespace('nl');
    const admin = own.client();
    const executor = await cachedExecutor();
    const random = seededRandom(11);
    // Each uid gets a link with a TTL of 30 to 230 ms. Redis keeps time in whole ms and a key
    // lives while now <= its expiry ms, so the key is dead by ack + TTL + 1 ms.
    const expiries = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const ttl = 30 + Math.floor(random() * 200);
        await admin.set(linkKey(ns, `u${i}`, 'room'), String(i + 1), 'PX', ttl);
        expiries.set(`u${i}`, performance.now() + ttl + 1);
      }),
    );
    const violations: string[] = [];
    let reads = 0;
    const until = performance.now() + 400;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < until) {
          const uid = `u${Math.floor(random() * 40)}`;
          const started = performance.now();
          const pod =
            random() < 0.5
              ? await executor.getLinkedPod(ns, uid, 'room')
              : await executor.setLinkedPodIfAbsent(ns, uid, 'room', {
                  podId: 0,
                  persistSeconds: 1,
                });
          reads++;
          // A setLinkedPodIfAbsent after the expiry links pod 0 for 1 s: that answer is right.
          if (started >= expiries.get(uid)! && pod > 0) {
            violations.push(`${uid}: ${pod} at +${(started - expiries.get(uid)!).toFixed(1)} ms`);
          }
          if (random() < 0.5) await sleep(1);
        }
      }),
    );
    console.log(`randomized expiries: ${reads} reads, hits ${executor.stats().nearCacheHits}`);
    expect(violations).toEqual([]);
    expect(executor.stats().nearCacheHits).toBeGreaterThan(50);
  });
});
