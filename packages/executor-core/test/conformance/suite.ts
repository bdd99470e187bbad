/**
 * The conformance suite: every operation of the contract and every row of its TTL table,
 * registered once per backend (memory, standalone Redis, Redis Cluster) by the
 * `conformance.*.test.ts` files. The assertions are the same on every backend; the
 * ones that need data written behind the executor's back (corrupt values) run where raw
 * writes exist (Redis).
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  linkIndexKey,
  linkKey,
  serviceStateKey,
  workloadKey,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import {
  createHarness,
  freshNamespace,
  recordCommands,
  type BackendName,
  type Harness,
  type HarnessOptions,
} from '../helpers/harness.js';

const SVC = 'room';

export function conformanceSuite(backend: BackendName, options: HarnessOptions = {}): void {
  const label = [
    backend,
    ...(options.autoPipelining ? ['with auto-pipelining'] : []),
    ...(options.nearCache ? ['through the near cache'] : []),
  ].join(' ');
  describe(`conformance on ${label}`, () => {
    let h: Harness;
    let ex: StatefulExecutor;
    beforeAll(async () => {
      h = await createHarness(backend, options);
      ex = h.executor;
    });
    afterAll(async () => {
      await h.close();
    });

    // ---- pod and workload state --------------------------------------------------------

    describe('service state', () => {
      test('setServiceState / getServiceState round trip, pod 0 included, states opaque', async () => {
        const ns = freshNamespace();
        expect(await ex.getServiceState(ns, SVC)).toEqual({});
        await ex.setServiceState(ns, SVC, 0, 'READY');
        await ex.setServiceState(ns, SVC, 7, '12-1700000000123');
        await ex.setServiceState(ns, SVC, 3, '  spaced, ünïcødé 🚀 {braces} ok  ');
        await ex.setServiceState(ns, 'other', 1, 'Running');
        expect(await ex.getServiceState(ns, SVC)).toEqual({
          0: 'READY',
          3: '  spaced, ünïcødé 🚀 {braces} ok  ',
          7: '12-1700000000123',
        });
        await ex.setServiceState(ns, SVC, 7, 'DRAINING');
        const states = await ex.getServiceState(ns, SVC);
        expect(states[7]).toBe('DRAINING');
        expect(Object.keys(states).sort()).toEqual(['0', '3', '7']);
        const raw = await h.raw.snapshot(ns);
        expect(raw[serviceStateKey(ns, SVC)]).toEqual({
          type: 'hash',
          value: { 0: 'READY', 3: '  spaced, ünïcødé 🚀 {braces} ok  ', 7: 'DRAINING' },
          ttl: -1,
        });
      });

      test("a namespace holding ':' is refused: it could spell another namespace's key", async () => {
        // The link index of uid `x:state:S` in ns is the very key `sf:{ns:lk:x:state:S}` that
        // would hold the pod states of service S in namespace `ns:lk:x` (issue 11 finding 5):
        // the contract bars `:` in namespaces, on every backend.
        const ns = freshNamespace();
        const stateNs = `${ns}:lk:x`;
        expect(serviceStateKey(stateNs, 'S')).toBe(linkIndexKey(ns, 'x:state:S'));
        await ex.setLinkedPod(ns, 'x:state:S', 'room', { podId: 5, persistSeconds: -1 });
        const refusal = { code: 'SR_VALIDATION', field: 'namespace', rule: 'forbidden-character' };
        await expect(ex.setServiceState(stateNs, 'S', 2, 'READY')).rejects.toMatchObject(refusal);
        await expect(ex.getServiceState(stateNs, 'S')).rejects.toMatchObject(refusal);
        expect(await ex.getLinkService(ns, 'x:state:S')).toEqual({ room: 5 });
        expect(await ex.getLinkedPod(ns, 'x:state:S', 'room')).toBe(5);
      });
    });

    describe('workload state', () => {
      test('set / get, absent when missing', async () => {
        const ns = freshNamespace();
        expect(await ex.getWorkloadState(ns, SVC)).toBeNull();
        await ex.setWorkloadState(ns, SVC, 'Running');
        expect(await ex.getWorkloadState(ns, SVC)).toBe('Running');
        await ex.setWorkloadState(ns, SVC, '80-1700000000');
        expect(await ex.getWorkloadState(ns, SVC)).toBe('80-1700000000');
        const raw = await h.raw.snapshot(ns);
        expect(raw[workloadKey(ns, SVC)]).toEqual({
          type: 'string',
          value: '80-1700000000',
          ttl: -1,
        });
      });

      test('"", "null" and "nil" read as absent; other spellings are values', async () => {
        const ns = freshNamespace();
        for (const absent of ['', 'null', 'nil']) {
          await ex.setWorkloadState(ns, SVC, absent);
          expect(await ex.getWorkloadState(ns, SVC)).toBeNull();
        }
        for (const value of ['NULL', 'Nil', ' null', 'none', '0']) {
          await ex.setWorkloadState(ns, SVC, value);
          expect(await ex.getWorkloadState(ns, SVC)).toBe(value);
        }
      });

      test('getWorkloadStateBatch leaves out the absent ones', async () => {
        const ns = freshNamespace();
        await ex.setWorkloadState(ns, 'a', 'Running');
        await ex.setWorkloadState(ns, 'b', '');
        await ex.setWorkloadState(ns, 'c', 'nil');
        await ex.setWorkloadState(ns, 'd', 'null');
        await ex.setWorkloadState(ns, 'f', 'READY');
        const batch = await ex.getWorkloadStateBatch(ns, ['f', 'a', 'b', 'c', 'd', 'e']);
        expect(batch).toEqual({ a: 'Running', f: 'READY' });
        expect(await ex.getWorkloadStateBatch(ns, ['e'])).toEqual({});
      });

      if (backend !== 'memory') {
        test('empty batch lists make no round trip', async () => {
          const ns = freshNamespace();
          const recorder = await recordCommands(h.raw.client!);
          expect(await ex.getWorkloadStateBatch(ns, [])).toEqual({});
          expect(await ex.batchGetLinkedPod(ns, [], SVC)).toEqual({});
          expect(await recorder.stop()).toEqual([]);
        });
      } else {
        test('empty batch lists answer empty results', async () => {
          const ns = freshNamespace();
          expect(await ex.getWorkloadStateBatch(ns, [])).toEqual({});
          expect(await ex.batchGetLinkedPod(ns, [], SVC)).toEqual({});
        });
      }
    });

    // ---- links: the TTL table -----------------------------------------------------------

    describe('TTL table: persistSeconds -1 is permanent and listed in the index', () => {
      test.each(['setLinkedPod', 'setLinkedPodIfAbsent', 'trySetLinkedPod'] as const)(
        '%s(-1)',
        async (operation) => {
          const ns = freshNamespace();
          await ex[operation](ns, 'u1', SVC, { podId: 4, persistSeconds: -1 });
          expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(4);
          expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(4);
          expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 4 });
          expect(await h.raw.snapshot(ns)).toEqual({
            [linkKey(ns, 'u1', SVC)]: { type: 'string', value: '4', ttl: -1 },
            [linkIndexKey(ns, 'u1')]: { type: 'hash', value: { [SVC]: '4' }, ttl: -1 },
          });
        },
      );
    });

    describe('TTL table: persistSeconds > 0 is temporary and not listed', () => {
      test.each(['setLinkedPod', 'setLinkedPodIfAbsent', 'trySetLinkedPod'] as const)(
        '%s(300)',
        async (operation) => {
          const ns = freshNamespace();
          await ex[operation](ns, 'u1', SVC, { podId: 4, persistSeconds: 300 });
          expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(4);
          expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(-1);
          expect(await ex.getLinkService(ns, 'u1')).toEqual({});
          const raw = await h.raw.snapshot(ns);
          expect(Object.keys(raw)).toEqual([linkKey(ns, 'u1', SVC)]);
          const link = raw[linkKey(ns, 'u1', SVC)]!;
          expect(link.type).toBe('string');
          expect(link.value).toBe('4');
          expect(link.ttl).toBeGreaterThan(290);
          expect(link.ttl).toBeLessThanOrEqual(300);
        },
      );

      test('temporary links vanish after their TTL and are never listed', async () => {
        const ns = freshNamespace();
        // A permanent link of the same uid to another service must survive.
        await ex.setLinkedPod(ns, 'u1', 'chat', { podId: 9, persistSeconds: -1 });
        expect(await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: 1 })).toBe(-1);
        expect(await ex.setLinkedPodIfAbsent(ns, 'u2', SVC, { podId: 2, persistSeconds: 1 })).toBe(
          2,
        );
        expect(await ex.trySetLinkedPod(ns, 'u3', SVC, { podId: 0, persistSeconds: 1 })).toEqual({
          linked: true,
          current: 0,
          previous: -1,
        });
        // A permanent link turned temporary leaves the index at once.
        await ex.setLinkedPod(ns, 'u4', SVC, { podId: 4, persistSeconds: -1 });
        expect(await ex.setLinkedPod(ns, 'u4', SVC, { podId: 5, persistSeconds: 1 })).toBe(4);
        expect(await ex.getLinkService(ns, 'u4')).toEqual({});
        expect(await ex.batchGetLinkedPod(ns, ['u1', 'u2', 'u3', 'u4'], SVC)).toEqual({
          0: ['u3'],
          1: ['u1'],
          2: ['u2'],
          5: ['u4'],
        });
        for (const uid of ['u1', 'u2', 'u3', 'u4']) {
          expect(await ex.getLinkService(ns, uid)).toEqual(uid === 'u1' ? { chat: 9 } : {});
        }

        await h.elapse(1);

        for (const uid of ['u1', 'u2', 'u3', 'u4']) {
          expect(await ex.getLinkedPod(ns, uid, SVC)).toBe(-1);
          expect(await ex.getLinkedPodIfPersist(ns, uid, SVC)).toBe(-1);
        }
        expect(await ex.batchGetLinkedPod(ns, ['u1', 'u2', 'u3', 'u4'], SVC)).toEqual({});
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ chat: 9 });
        expect(await ex.getLinkedPod(ns, 'u1', 'chat')).toBe(9);
        expect(Object.keys(await h.raw.snapshot(ns))).toEqual([
          linkIndexKey(ns, 'u1'),
          linkKey(ns, 'u1', 'chat'),
        ]);
        // A link that expired is absent for the conditional writers too.
        expect(await ex.setLinkedPodIfAbsent(ns, 'u2', SVC, { podId: 7, persistSeconds: -1 })).toBe(
          7,
        );
        expect(await ex.setLinkedPod(ns, 'u3', SVC, { podId: 8, persistSeconds: -1 })).toBe(-1);
      });

      test('a temporary link made permanent loses its TTL and joins the index', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: 300 });
        expect(await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 })).toBe(3);
        const raw = await h.raw.snapshot(ns);
        expect(raw[linkKey(ns, 'u1', SVC)]).toEqual({ type: 'string', value: '3', ttl: -1 });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 3 });
        expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(3);
      });

      test('a temporary link re-set refreshes its TTL (setLinkedPod)', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: 100 });
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: 5000 });
        const raw = await h.raw.snapshot(ns);
        expect(raw[linkKey(ns, 'u1', SVC)]!.ttl).toBeGreaterThan(4000);
      });
    });

    describe('TTL table: remove keepSeconds has no effect', () => {
      test.each([-1, 0, 1, 3600])(
        'removeLinkedPod keepSeconds=%i deletes at once',
        async (keep) => {
          const ns = freshNamespace();
          await ex.setLinkedPod(ns, 'u1', SVC, { podId: 2, persistSeconds: -1 });
          await ex.setLinkedPod(ns, 'u1', 'chat', { podId: 3, persistSeconds: -1 });
          expect(await ex.removeLinkedPod(ns, 'u1', SVC, { keepSeconds: keep })).toBe(true);
          expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
          expect(await ex.getLinkService(ns, 'u1')).toEqual({ chat: 3 });
          expect(Object.keys(await h.raw.snapshot(ns))).toEqual([
            linkIndexKey(ns, 'u1'),
            linkKey(ns, 'u1', 'chat'),
          ]);
          expect(await ex.removeLinkedPod(ns, 'u1', SVC, { keepSeconds: keep })).toBe(false);
        },
      );

      test.each([-1, 0, 60])(
        'removeLinkedPodWithId keepSeconds=%i deletes at once',
        async (keep) => {
          const ns = freshNamespace();
          await ex.setLinkedPod(ns, 'u1', SVC, { podId: 2, persistSeconds: -1 });
          expect(
            await ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 2, keepSeconds: keep }),
          ).toBe(true);
          expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
          expect(await h.raw.snapshot(ns)).toEqual({});
        },
      );
    });

    // ---- links: each operation ----------------------------------------------------------

    describe('setLinkedPod', () => {
      test('returns the previous pod or -1; pod 0 is a pod', async () => {
        const ns = freshNamespace();
        expect(await ex.setLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 })).toBe(-1);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(0);
        expect(await ex.setLinkedPod(ns, 'u1', SVC, { podId: 5, persistSeconds: -1 })).toBe(0);
        expect(await ex.setLinkedPod(ns, 'u1', SVC, { podId: 6, persistSeconds: 60 })).toBe(5);
        expect(await ex.setLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 })).toBe(6);
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 0 });
        // Large safe pod ids are written in canonical decimal.
        expect(
          await ex.setLinkedPod(ns, 'u1', SVC, { podId: 2 ** 53 - 1, persistSeconds: -1 }),
        ).toBe(0);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(2 ** 53 - 1);
        const raw = await h.raw.snapshot(ns);
        expect(raw[linkKey(ns, 'u1', SVC)]!.value).toBe('9007199254740991');
      });

      test('links of one uid to several services are independent', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', 'a', { podId: 1, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u1', 'b', { podId: 2, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u1', 'c', { podId: 3, persistSeconds: 60 });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ a: 1, b: 2 });
        expect(await ex.getLinkedPod(ns, 'u1', 'c')).toBe(3);
        expect(await ex.getLinkedPod(ns, 'u2', 'a')).toBe(-1);
      });
    });

    describe('trySetLinkedPod', () => {
      test('links where there is no link', async () => {
        const ns = freshNamespace();
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 })).toEqual({
          linked: true,
          current: 3,
          previous: -1,
        });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 3 });
      });

      test('refuses over a permanent link to another pod, reports it, changes nothing', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 });
        const before = await h.raw.snapshot(ns);
        for (const persist of [-1, 60]) {
          expect(
            await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 4, persistSeconds: persist }),
          ).toEqual({
            linked: false,
            current: 3,
            previous: -1,
          });
        }
        expect(await h.raw.snapshot(ns)).toEqual(before);
      });

      test('refusal by pod 0 reports 0, never -1', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 });
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 })).toEqual({
          linked: false,
          current: 0,
          previous: -1,
        });
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 })).toEqual({
          linked: true,
          current: 0,
          previous: 0,
        });
      });

      test('the same pod over a permanent link re-sets it (and may make it temporary)', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 });
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 })).toEqual({
          linked: true,
          current: 3,
          previous: 3,
        });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 3 });
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: 60 })).toEqual({
          linked: true,
          current: 3,
          previous: 3,
        });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({});
        expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(-1);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(3);
      });

      test('a temporary link to another pod is replaced', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: 60 });
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 4, persistSeconds: 60 })).toEqual({
          linked: true,
          current: 4,
          previous: 3,
        });
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 5, persistSeconds: -1 })).toEqual({
          linked: true,
          current: 5,
          previous: 4,
        });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 5 });
        const raw = await h.raw.snapshot(ns);
        expect(raw[linkKey(ns, 'u1', SVC)]).toEqual({ type: 'string', value: '5', ttl: -1 });
      });
    });

    describe('setLinkedPodIfAbsent', () => {
      test('links when absent, else returns the existing pod and changes nothing', async () => {
        const ns = freshNamespace();
        expect(await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 })).toBe(
          0,
        );
        const before = await h.raw.snapshot(ns);
        expect(await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 4, persistSeconds: -1 })).toBe(
          0,
        );
        expect(await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 4, persistSeconds: 60 })).toBe(
          0,
        );
        expect(await h.raw.snapshot(ns)).toEqual(before);
      });

      test('does not refresh the TTL and does not make a temporary link permanent', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 2, persistSeconds: 100 });
        expect(
          await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 2, persistSeconds: 5000 }),
        ).toBe(2);
        expect(await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 })).toBe(
          2,
        );
        const raw = await h.raw.snapshot(ns);
        expect(Object.keys(raw)).toEqual([linkKey(ns, 'u1', SVC)]);
        expect(raw[linkKey(ns, 'u1', SVC)]!.ttl).toBeGreaterThan(0);
        expect(raw[linkKey(ns, 'u1', SVC)]!.ttl).toBeLessThanOrEqual(100);
        expect(await ex.getLinkService(ns, 'u1')).toEqual({});
      });
    });

    describe('getLinkedPod / getLinkedPodIfPersist', () => {
      test('missing is -1, pod 0 is 0', async () => {
        const ns = freshNamespace();
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
        expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(-1);
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 });
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(0);
        expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(0);
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: 60 });
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(0);
        expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(-1);
      });
    });

    describe('batchGetLinkedPod', () => {
      test('pod -> uids in input order; temporary and permanent links count', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 0, persistSeconds: 60 });
        await ex.setLinkedPod(ns, 'u3', SVC, { podId: 1, persistSeconds: 60 });
        await ex.setLinkedPod(ns, 'u4', SVC, { podId: 0, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u5', 'other', { podId: 1, persistSeconds: -1 });
        const uids = ['u4', 'u3', 'missing', 'u2', 'u1', 'u5'];
        const result = await ex.batchGetLinkedPod(ns, uids, SVC);
        expect(result).toEqual({ 0: ['u4', 'u2'], 1: ['u3', 'u1'] });
        expect(Object.keys(result).sort()).toEqual(['0', '1']);
        expect(await ex.batchGetLinkedPod(ns, ['missing'], SVC)).toEqual({});
      });

      test('many uids spread over every slot of a cluster', async () => {
        const ns = freshNamespace();
        const uids = Array.from({ length: 300 }, (_, i) => `user-${i}`);
        for (let i = 0; i < uids.length; i += 50) {
          await Promise.all(
            uids
              .slice(i, i + 50)
              .map((uid, j) =>
                ex.setLinkedPod(ns, uid, SVC, { podId: (i + j) % 3, persistSeconds: 60 }),
              ),
          );
        }
        const result = await ex.batchGetLinkedPod(ns, [...uids, 'nobody'], SVC);
        for (const pod of [0, 1, 2]) {
          expect(result[pod]).toEqual(uids.filter((_, i) => i % 3 === pod));
        }
      });
    });

    describe('removeLinkedPod / removeLinkedPodWithId', () => {
      test('removeLinkedPod removes temporary and permanent links; false when missing', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: 60 });
        expect(await ex.removeLinkedPod(ns, 'u1', SVC)).toBe(true);
        expect(await ex.removeLinkedPod(ns, 'u1', SVC)).toBe(false);
        expect(await ex.removeLinkedPod(ns, 'u2', SVC)).toBe(false);
        expect(await h.raw.snapshot(ns)).toEqual({});
      });

      test('removeLinkedPodWithId changes nothing on a mismatch', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 0, persistSeconds: 60 });
        const before = await h.raw.snapshot(ns);
        expect(await ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 2 })).toBe(false);
        expect(await ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 0 })).toBe(false);
        expect(await ex.removeLinkedPodWithId(ns, 'u1', 'other', { podId: 1 })).toBe(false);
        expect(await ex.removeLinkedPodWithId(ns, 'u2', SVC, { podId: 1, keepSeconds: 10 })).toBe(
          false,
        );
        expect(await ex.removeLinkedPodWithId(ns, 'u3', SVC, { podId: 0 })).toBe(false);
        expect(await h.raw.snapshot(ns)).toEqual(before);
        expect(await ex.removeLinkedPodWithId(ns, 'u2', SVC, { podId: 0 })).toBe(true);
        expect(await ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 1 })).toBe(true);
        expect(await h.raw.snapshot(ns)).toEqual({});
      });
    });

    describe('getLinkService', () => {
      test('lists permanent links only; {} for an unknown uid', async () => {
        const ns = freshNamespace();
        expect(await ex.getLinkService(ns, 'u1')).toEqual({});
        await ex.setLinkedPod(ns, 'u1', 'a', { podId: 0, persistSeconds: -1 });
        await ex.setLinkedPodIfAbsent(ns, 'u1', 'b', { podId: 2, persistSeconds: -1 });
        await ex.trySetLinkedPod(ns, 'u1', 'c', { podId: 3, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u1', 'd', { podId: 4, persistSeconds: 60 });
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ a: 0, b: 2, c: 3 });
        await ex.removeLinkedPod(ns, 'u1', 'b');
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ a: 0, c: 3 });
      });
    });

    describe('named options', () => {
      test('removeLinkedPod takes no options (keepSeconds has no effect)', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 });
        expect(await ex.removeLinkedPod(ns, 'u1', SVC)).toBe(true);
        expect(await ex.removeLinkedPod(ns, 'u1', SVC, {})).toBe(false);
        expect(await h.raw.snapshot(ns)).toEqual({});
      });

      test('null-prototype options objects are plain objects too', async () => {
        const ns = freshNamespace();
        const options = Object.assign(Object.create(null) as object, {
          podId: 4,
          persistSeconds: -1,
        });
        expect(
          await ex.setLinkedPod(
            ns,
            'u1',
            SVC,
            options as { podId: number; persistSeconds: number },
          ),
        ).toBe(-1);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(4);
      });

      test('the old positional mistake and a misspelt option are refused, nothing written', async () => {
        const ns = freshNamespace();
        const loose = ex as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
        await expect(loose.setLinkedPod!.call(ex, ns, 'u', 'svc', 300, 3)).rejects.toMatchObject({
          code: 'SR_VALIDATION',
          field: 'options',
          rule: 'type',
        });
        await expect(
          loose.setLinkedPod!.call(ex, ns, 'u', 'svc', { podId: 300, persistSecond: 3 }),
        ).rejects.toMatchObject({
          code: 'SR_VALIDATION',
          field: 'persistSecond',
          rule: 'unknown-option',
        });
        await expect(
          loose.trySetLinkedPod!.call(ex, ns, 'u', 'svc', { podId: 300 }),
        ).rejects.toMatchObject({
          code: 'SR_VALIDATION',
          field: 'persistSeconds',
          rule: 'required',
        });
        expect(await h.raw.snapshot(ns)).toEqual({});
      });
    });

    describe('results are plain objects', () => {
      test('they print readably (no null prototype)', async () => {
        const ns = freshNamespace();
        await ex.setServiceState(ns, SVC, 0, 'READY');
        await ex.setWorkloadState(ns, SVC, 'Running');
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 });
        const results: unknown[] = [
          await ex.getServiceState(ns, SVC),
          await ex.getServiceState(ns, 'none'),
          await ex.getWorkloadStateBatch(ns, [SVC]),
          await ex.getWorkloadStateBatch(ns, []),
          await ex.batchGetLinkedPod(ns, ['u1'], SVC),
          await ex.batchGetLinkedPod(ns, [], SVC),
          await ex.getLinkService(ns, 'u1'),
          await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 0, persistSeconds: -1 }),
        ];
        for (const result of results) {
          expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
          expect(inspect(result)).not.toContain('null prototype');
        }
        expect(inspect(results[0])).toBe("{ '0': 'READY' }");
      });

      test('a service named __proto__ (or after another Object.prototype member) is an own key', async () => {
        const ns = freshNamespace();
        const names = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf'];
        const prototypeBefore = Object.getOwnPropertyNames(Object.prototype);
        for (const [i, svc] of names.entries()) {
          await ex.setLinkedPod(ns, 'u1', svc, { podId: i, persistSeconds: -1 });
          await ex.setWorkloadState(ns, svc, `state-${i}`);
        }
        const links = await ex.getLinkService(ns, 'u1');
        const states = await ex.getWorkloadStateBatch(ns, names);
        for (const [i, svc] of names.entries()) {
          expect(Object.getOwnPropertyDescriptor(links, svc)).toEqual({
            value: i,
            writable: true,
            enumerable: true,
            configurable: true,
          });
          expect(Object.getOwnPropertyDescriptor(states, svc)?.value).toBe(`state-${i}`);
        }
        expect(Object.keys(links).sort()).toEqual([...names].sort());
        expect(Object.keys(states).sort()).toEqual([...names].sort());
        // The results keep their prototype; Object.prototype itself is untouched.
        expect(Object.getPrototypeOf(links)).toBe(Object.prototype);
        expect(Object.getPrototypeOf(states)).toBe(Object.prototype);
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeBefore);
        expect(typeof Object.prototype.hasOwnProperty).toBe('function');
        expect(({} as Record<string, unknown>).constructor).toBe(Object);
        // And the keys read back through JSON as they are (what the server sends).
        expect(JSON.parse(JSON.stringify(links))).toEqual(links);
      });
    });

    // ---- ids --------------------------------------------------------------------------------

    describe('ids are stored exactly as given', () => {
      const ids = {
        unicode: 'üsér-用户-🚀-Ωmega',
        colons: 'a:b:lk:c',
        spaces: '  user with spaces  ',
        max1: 'x'.repeat(512),
        max2: 'é'.repeat(256),
        max3: '用'.repeat(170) + 'ab',
        max4: '🚀'.repeat(128),
      };
      test.each(Object.entries(ids))(
        '%s ids work in every position they may take',
        async (_name, id) => {
          const ns = freshNamespace();
          // A namespace may not hold ':' (uid and service may): see the service state tests.
          const positions = [
            [id, 'u', SVC],
            [ns, id, SVC],
            [ns, 'u', id],
          ].filter(([n]) => !n!.includes(':')) as [string, string, string][];
          expect(positions.length).toBe(id.includes(':') ? 2 : 3);
          for (const [n, uid, svc] of positions) {
            expect(await ex.setLinkedPod(n, uid, svc, { podId: 0, persistSeconds: -1 })).toBe(-1);
            expect(
              await ex.trySetLinkedPod(n, uid, svc, { podId: 1, persistSeconds: -1 }),
            ).toMatchObject({ current: 0 });
            expect(await ex.getLinkedPod(n, uid, svc)).toBe(0);
            expect(await ex.getLinkedPodIfPersist(n, uid, svc)).toBe(0);
            expect(await ex.batchGetLinkedPod(n, [uid], svc)).toEqual({ 0: [uid] });
            expect(await ex.getLinkService(n, uid)).toEqual({ [svc]: 0 });
            const raw = await h.raw.snapshot(n);
            expect(raw[linkKey(n, uid, svc)]).toEqual({ type: 'string', value: '0', ttl: -1 });
            expect(raw[linkIndexKey(n, uid)]).toEqual({
              type: 'hash',
              value: { [svc]: '0' },
              ttl: -1,
            });
            expect(await ex.removeLinkedPodWithId(n, uid, svc, { podId: 0 })).toBe(true);
            expect(
              await ex.setLinkedPodIfAbsent(n, uid, svc, { podId: 2, persistSeconds: 60 }),
            ).toBe(2);
            expect(await ex.removeLinkedPod(n, uid, svc)).toBe(true);
          }
          // As a namespace (when it may be one) and a service of the state operations.
          const stateNs = id.includes(':') ? ns : id;
          await ex.setServiceState(stateNs, id, 3, 'READY');
          expect(await ex.getServiceState(stateNs, id)).toEqual({ 3: 'READY' });
          await ex.setWorkloadState(stateNs, id, 'Running');
          expect(await ex.getWorkloadState(stateNs, id)).toBe('Running');
          expect(await ex.getWorkloadStateBatch(stateNs, [id, 'none'])).toEqual({
            [id]: 'Running',
          });
          const raw = await h.raw.snapshot(stateNs);
          expect(raw[serviceStateKey(stateNs, id)]).toEqual({
            type: 'hash',
            value: { 3: 'READY' },
            ttl: -1,
          });
          expect(raw[workloadKey(stateNs, id)]).toEqual({
            type: 'string',
            value: 'Running',
            ttl: -1,
          });
        },
      );

      test('ids that differ only by spaces are different links', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 });
        await ex.setLinkedPod(ns, ' u1', SVC, { podId: 2, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u1 ', SVC, { podId: 3, persistSeconds: -1 });
        expect(await ex.batchGetLinkedPod(ns, ['u1', ' u1', 'u1 '], SVC)).toEqual({
          1: ['u1'],
          2: [' u1'],
          3: ['u1 '],
        });
      });
    });

    // ---- data written by others -----------------------------------------------------------

    if (backend !== 'memory') {
      describe('values written by other services', () => {
        test('getLinkedPod: "" is -1, leading zeros are integers, other values are corrupt', async () => {
          const ns = freshNamespace();
          const redis = h.raw.client!;
          await redis.set(linkKey(ns, 'empty', SVC), '');
          await redis.set(linkKey(ns, 'zeros', SVC), '007');
          expect(await ex.getLinkedPod(ns, 'empty', SVC)).toBe(-1);
          expect(await ex.getLinkedPod(ns, 'zeros', SVC)).toBe(7);
          for (const bad of ['abc', 'null', 'nil', '-1', '-3', '1.5', '1e3', '+3', ' 3', '0x10']) {
            await redis.set(linkKey(ns, 'bad', SVC), bad);
            const error = await ex.getLinkedPod(ns, 'bad', SVC).catch((e: unknown) => e);
            expect(error, bad).toMatchObject({ code: 'SR_CORRUPT_VALUE' });
          }
        });

        test('batchGetLinkedPod skips "", "null", "nil" and non-integers', async () => {
          const ns = freshNamespace();
          const redis = h.raw.client!;
          const values: Record<string, string> = {
            a: '',
            b: 'null',
            c: 'nil',
            d: 'abc',
            e: '1.5',
            f: '-1',
            g: '2',
            h: '02',
            i: '1e2',
          };
          for (const [uid, value] of Object.entries(values)) {
            await redis.set(linkKey(ns, uid, SVC), value);
          }
          const uids = [...Object.keys(values), 'missing'];
          expect(await ex.batchGetLinkedPod(ns, uids, SVC)).toEqual({ 2: ['g', 'h'] });
        });

        test('getServiceState and getLinkService skip non-integer fields and values', async () => {
          const ns = freshNamespace();
          const redis = h.raw.client!;
          await redis.hset(serviceStateKey(ns, SVC), {
            '0': 'READY',
            '05': 'zeros',
            abc: 'x',
            '-1': 'x',
            '1.5': 'x',
            '': 'x',
            '1e2': 'x',
            ['__proto__']: 'x',
            constructor: 'x',
          });
          expect(await ex.getServiceState(ns, SVC)).toEqual({ 0: 'READY', 5: 'zeros' });
          await redis.hset(linkIndexKey(ns, 'u1'), {
            a: '1',
            b: 'x',
            c: '',
            d: '-1',
            e: '3.0',
            f: '04',
            ['__proto__']: '6',
          });
          const services = await ex.getLinkService(ns, 'u1');
          expect(Object.entries(services).sort()).toEqual([
            ['__proto__', 6],
            ['a', 1],
            ['f', 4],
          ]);
        });

        test('scripts compare pod ids as strings: "03" is not 3', async () => {
          const ns = freshNamespace();
          const redis = h.raw.client!;
          await redis.set(linkKey(ns, 'u1', SVC), '03');
          await redis.hset(linkIndexKey(ns, 'u1'), SVC, '03');
          expect(await ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 3 })).toBe(false);
          // A permanent "03" refuses pod 3: it is another value.
          expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 3, persistSeconds: -1 })).toEqual(
            {
              linked: false,
              current: 3,
              previous: -1,
            },
          );
          expect(await redis.get(linkKey(ns, 'u1', SVC))).toBe('03');
        });

        test('link scripts refuse keys of the wrong type before writing anything', async () => {
          const ns = freshNamespace();
          const redis = h.raw.client!;
          await redis.set(linkIndexKey(ns, 'u1'), 'not a hash');
          for (const call of [
            () => ex.setLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 }),
            () => ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 1, persistSeconds: -1 }),
            () => ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 1, persistSeconds: 60 }),
            () => ex.removeLinkedPod(ns, 'u1', SVC),
            () => ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 1 }),
          ]) {
            await expect(call()).rejects.toMatchObject({ code: 'SR_REDIS_SCRIPT' });
          }
          expect(await redis.exists(linkKey(ns, 'u1', SVC))).toBe(0);
        });
      });
    }

    // ---- lifecycle --------------------------------------------------------------------------

    describe('lifecycle', () => {
      test('describe, stats and health', async () => {
        const description = ex.describe();
        expect(description.backend).toBe(backend === 'memory' ? 'memory' : 'redis');
        expect(description.topology).toBe(backend === 'memory' ? 'embedded' : backend);
        const health = await ex.checkHealth();
        expect(health).toMatchObject({ ok: true, scriptsLoaded: true });
        expect(ex.stats().scriptCallsBySha > 0).toBe(backend !== 'memory');
      });

      test('a closed executor rejects every call with SR_EXECUTOR_CLOSED', async () => {
        const own = await createHarness(backend);
        await own.close();
        await own.executor.close(); // idempotent
        await expect(own.executor.getLinkedPod('ns', 'u', SVC)).rejects.toMatchObject({
          code: 'SR_EXECUTOR_CLOSED',
        });
        await expect(own.executor.setServiceState('ns', SVC, 0, 'x')).rejects.toMatchObject({
          code: 'SR_EXECUTOR_CLOSED',
        });
        expect((await own.executor.checkHealth()).ok).toBe(false);
      });
    });
  });
}
