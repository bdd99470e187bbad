/**
 * Wire compatibility with the Java and Go executors, checked with raw Redis commands: what
 * the executor writes has exactly the contract's key names, types, values and TTL presence,
 * and what another service writes in the contract's layout is read correctly.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import {
  createHarness,
  freshNamespace,
  masters,
  redisSnapshot,
  REDIS_BACKENDS,
  type Harness,
} from './helpers/harness.js';

describe.each(REDIS_BACKENDS)('wire compatibility on %s', (backend) => {
  let h: Harness;
  let redis: NonNullable<Harness['raw']['client']>;
  beforeAll(async () => {
    h = await createHarness(backend);
    redis = h.raw.client!;
  });
  afterAll(async () => {
    await h.close();
  });

  test('keys written by the executor: names, types, values and TTL presence', async () => {
    const ns = freshNamespace();
    const ex = h.executor;
    await ex.setServiceState(ns, 'room', 0, 'READY');
    await ex.setServiceState(ns, 'room', 12, '35-1700000000');
    await ex.setWorkloadState(ns, 'room', 'Running');
    await ex.setLinkedPod(ns, 'user123', 'room', { podId: 3, persistSeconds: -1 });
    await ex.trySetLinkedPod(ns, 'user123', 'chat', { podId: 10, persistSeconds: -1 });
    await ex.setLinkedPodIfAbsent(ns, 'user123', 'match', { podId: 0, persistSeconds: -1 });
    await ex.setLinkedPod(ns, 'user456', 'room', { podId: 4, persistSeconds: 300 });
    await ex.setLinkedPodIfAbsent(ns, 'user789', 'room', { podId: 5, persistSeconds: 300 });
    await ex.trySetLinkedPod(ns, 'user789', 'chat', { podId: 6, persistSeconds: 300 });

    const expectKey = async (key: string, type: string, value: unknown, ttl: 'none' | number) => {
      expect(await redis.type(key), key).toBe(type);
      expect(type === 'hash' ? await redis.hgetall(key) : await redis.get(key), key).toEqual(value);
      const actual = await redis.ttl(key);
      if (ttl === 'none') expect(actual, key).toBe(-1);
      else {
        expect(actual, key).toBeGreaterThan(ttl - 10);
        expect(actual, key).toBeLessThanOrEqual(ttl);
      }
    };
    await expectKey(
      `sf:{${ns}:state:room}`,
      'hash',
      { '0': 'READY', '12': '35-1700000000' },
      'none',
    );
    await expectKey(`sf:{${ns}:workload:room}`, 'string', 'Running', 'none');
    await expectKey(`sf:{${ns}:lk:user123}room`, 'string', '3', 'none');
    await expectKey(`sf:{${ns}:lk:user123}chat`, 'string', '10', 'none');
    await expectKey(`sf:{${ns}:lk:user123}match`, 'string', '0', 'none');
    // The index hash lists permanent links only.
    await expectKey(`sf:{${ns}:lk:user123}`, 'hash', { room: '3', chat: '10', match: '0' }, 'none');
    await expectKey(`sf:{${ns}:lk:user456}room`, 'string', '4', 300);
    await expectKey(`sf:{${ns}:lk:user789}room`, 'string', '5', 300);
    await expectKey(`sf:{${ns}:lk:user789}chat`, 'string', '6', 300);
    expect(await redis.type(`sf:{${ns}:lk:user456}`)).toBe('none');
    expect(await redis.type(`sf:{${ns}:lk:user789}`)).toBe('none');

    // Nothing else was written.
    expect(Object.keys(await redisSnapshot(redis, ns)).sort()).toEqual(
      [
        `sf:{${ns}:state:room}`,
        `sf:{${ns}:workload:room}`,
        `sf:{${ns}:lk:user123}`,
        `sf:{${ns}:lk:user123}room`,
        `sf:{${ns}:lk:user123}chat`,
        `sf:{${ns}:lk:user123}match`,
        `sf:{${ns}:lk:user456}room`,
        `sf:{${ns}:lk:user789}room`,
        `sf:{${ns}:lk:user789}chat`,
      ].sort(),
    );

    // A permanent link made temporary leaves the index; the last one removes the hash.
    await ex.setLinkedPod(ns, 'user123', 'room', { podId: 3, persistSeconds: 60 });
    expect(await redis.hgetall(`sf:{${ns}:lk:user123}`)).toEqual({ chat: '10', match: '0' });
    expect(await redis.ttl(`sf:{${ns}:lk:user123}room`)).toBeGreaterThan(0);
    await ex.removeLinkedPod(ns, 'user123', 'chat');
    await ex.removeLinkedPodWithId(ns, 'user123', 'match', { podId: 0 });
    expect(await redis.exists(`sf:{${ns}:lk:user123}`)).toBe(0);
    expect(await redis.exists(`sf:{${ns}:lk:user123}chat`, `sf:{${ns}:lk:user123}match`)).toBe(0);
  });

  test('a link key and its index share one cluster slot; other keys spread', async () => {
    const ns = freshNamespace();
    const node = masters(redis)[0]! as Redis;
    const slot = async (key: string) => Number(await node.call('CLUSTER', 'KEYSLOT', key));
    if (backend === 'cluster') {
      expect(await slot(`sf:{${ns}:lk:user123}room`)).toBe(await slot(`sf:{${ns}:lk:user123}`));
    }
    // The executor's own keys are built the same way.
    await h.executor.setLinkedPod(ns, 'user123', 'room', { podId: 1, persistSeconds: -1 });
    expect(await redis.get(`sf:{${ns}:lk:user123}room`)).toBe('1');
  });

  test('setWorkloadState clears an old TTL', async () => {
    const ns = freshNamespace();
    await redis.set(`sf:{${ns}:workload:room}`, 'Starting', 'EX', 100);
    await h.executor.setWorkloadState(ns, 'room', 'Running');
    expect(await redis.ttl(`sf:{${ns}:workload:room}`)).toBe(-1);
  });

  test('data written with raw commands, as a Java service would, is read correctly', async () => {
    const ex = h.executor;
    const ns = 'default';
    const svc = `room-${backend}`;
    const keys = [
      `sf:{default:state:${svc}}`,
      `sf:{default:workload:${svc}}`,
      `sf:{default:lk:user123}${svc}`,
      `sf:{default:lk:user123}`,
      `sf:{default:lk:user456}${svc}`,
      `sf:{default:lk:user789}${svc}`,
    ];
    try {
      await redis.hset(
        `sf:{default:state:${svc}}`,
        '0',
        'READY',
        '1',
        '35-1700000000',
        '2',
        'Running',
      );
      await redis.set(`sf:{default:workload:${svc}}`, 'Running');
      await redis.set(`sf:{default:lk:user123}${svc}`, '3');
      await redis.hset('sf:{default:lk:user123}', svc, '3');
      await redis.set(`sf:{default:lk:user456}${svc}`, '5', 'EX', 300);
      await redis.set(`sf:{default:lk:user789}${svc}`, '0');

      expect(await ex.getServiceState(ns, svc)).toEqual({
        0: 'READY',
        1: '35-1700000000',
        2: 'Running',
      });
      expect(await ex.getWorkloadState(ns, svc)).toBe('Running');
      expect(await ex.getWorkloadStateBatch(ns, [svc, 'nothing'])).toEqual({ [svc]: 'Running' });
      expect(await ex.getLinkedPod(ns, 'user123', svc)).toBe(3);
      expect(await ex.getLinkedPodIfPersist(ns, 'user123', svc)).toBe(3);
      expect(await ex.getLinkedPodIfPersist(ns, 'user456', svc)).toBe(-1);
      expect(await ex.getLinkedPod(ns, 'user456', svc)).toBe(5);
      expect(await ex.getLinkService(ns, 'user123')).toMatchObject({ [svc]: 3 });
      expect(
        await ex.batchGetLinkedPod(ns, ['user456', 'user123', 'user789', 'none'], svc),
      ).toEqual({ 0: ['user789'], 3: ['user123'], 5: ['user456'] });

      // The permanent Java link refuses another pod; the temporary one is replaced.
      expect(
        await ex.trySetLinkedPod(ns, 'user123', svc, { podId: 4, persistSeconds: -1 }),
      ).toEqual({
        linked: false,
        current: 3,
        previous: -1,
      });
      expect(
        await ex.setLinkedPodIfAbsent(ns, 'user456', svc, { podId: 9, persistSeconds: 600 }),
      ).toBe(5);
      expect(await redis.ttl(`sf:{default:lk:user456}${svc}`)).toBeLessThanOrEqual(300);
      expect(
        await ex.trySetLinkedPod(ns, 'user456', svc, { podId: 6, persistSeconds: -1 }),
      ).toEqual({
        linked: true,
        current: 6,
        previous: 5,
      });
      expect(await redis.hget('sf:{default:lk:user456}', svc)).toBe('6');
      expect(await ex.removeLinkedPodWithId(ns, 'user123', svc, { podId: 4 })).toBe(false);
      expect(await ex.removeLinkedPodWithId(ns, 'user123', svc, { podId: 3 })).toBe(true);
      expect(await redis.exists(`sf:{default:lk:user123}${svc}`)).toBe(0);
      expect(await redis.hexists('sf:{default:lk:user123}', svc)).toBe(0);
      expect(await ex.removeLinkedPod(ns, 'user789', svc, { keepSeconds: 30 })).toBe(true);
      expect(await redis.exists(`sf:{default:lk:user789}${svc}`)).toBe(0);
    } finally {
      for (const key of [...keys, 'sf:{default:lk:user456}']) await redis.del(key);
    }
  });
});
