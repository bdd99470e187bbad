/**
 * Concurrent writers on one uid: the link scripts are atomic, so 200 calls in flight give
 * exactly the outcomes a one-at-a-time order would give, with ioredis auto-pipelining on
 * and off. Only what the contract guarantees is asserted (a winner, not which one).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createHarness,
  freshNamespace,
  type BackendName,
  type Harness,
} from './helpers/harness.js';

const N = 200;
const SVC = 'room';
const pods = Array.from({ length: N }, (_, i) => i);

const VARIANTS: [BackendName, boolean][] = [
  ['memory', false],
  ['standalone', false],
  ['standalone', true],
  ['cluster', false],
  ['cluster', true],
];

describe.each(VARIANTS)(
  '200 concurrent writers on %s (auto-pipelining %s)',
  (backend, autoPipelining) => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(backend, { autoPipelining });
      expect(h.executor.describe().autoPipelining).toBe(
        backend === 'memory' ? null : autoPipelining,
      );
    });
    afterAll(async () => {
      await h.close();
    });

    test.each([-1, 300])(
      'setLinkedPodIfAbsent (persist %i): one pod linked, every caller told that pod',
      async (persist) => {
        const ns = freshNamespace();
        const ex = h.executor;
        const results = await Promise.all(
          pods.map((pod) =>
            ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: pod, persistSeconds: persist }),
          ),
        );
        const winner = results[0]!;
        expect(pods).toContain(winner);
        expect(new Set(results)).toEqual(new Set([winner]));
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(winner);
        expect(await ex.getLinkService(ns, 'u1')).toEqual(persist === -1 ? { [SVC]: winner } : {});
      },
    );

    test.each([-1, 60])(
      'trySetLinkedPod over a permanent link (persist %i): every caller refused and told the pod',
      async (persist) => {
        const ns = freshNamespace();
        const ex = h.executor;
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 1000, persistSeconds: -1 });
        const results = await Promise.all(
          pods.map((pod) =>
            ex.trySetLinkedPod(ns, 'u1', SVC, { podId: pod, persistSeconds: persist }),
          ),
        );
        for (const result of results) {
          expect(result).toEqual({ linked: false, current: 1000, previous: -1 });
        }
        expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(1000);
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 1000 });
      },
    );

    test('trySetLinkedPod over a permanent link, some callers asking for the linked pod', async () => {
      const ns = freshNamespace();
      const ex = h.executor;
      await ex.setLinkedPod(ns, 'u1', SVC, { podId: 7, persistSeconds: -1 });
      const asked = pods.map((pod) => (pod % 10 === 0 ? 7 : pod + 1000));
      const results = await Promise.all(
        asked.map((pod) => ex.trySetLinkedPod(ns, 'u1', SVC, { podId: pod, persistSeconds: -1 })),
      );
      results.forEach((result, i) => {
        expect(result).toEqual(
          asked[i] === 7
            ? { linked: true, current: 7, previous: 7 }
            : { linked: false, current: 7, previous: -1 },
        );
      });
      expect(await ex.getLinkService(ns, 'u1')).toEqual({ [SVC]: 7 });
    });

    test('trySetLinkedPod from no link, permanent: exactly one wins, the others are told the winner', async () => {
      const ns = freshNamespace();
      const ex = h.executor;
      const results = await Promise.all(
        pods.map((pod) => ex.trySetLinkedPod(ns, 'u1', SVC, { podId: pod, persistSeconds: -1 })),
      );
      const winners = results.filter((result) => result.linked);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      expect(winner.previous).toBe(-1);
      for (const result of results) {
        if (result !== winner)
          expect(result).toEqual({ linked: false, current: winner.current, previous: -1 });
      }
      expect(await ex.getLinkedPodIfPersist(ns, 'u1', SVC)).toBe(winner.current);
    });

    test.each(['trySetLinkedPod', 'setLinkedPod'] as const)(
      '%s from no link, temporary: every call links, the previous pods form one chain',
      async (operation) => {
        const ns = freshNamespace();
        const ex = h.executor;
        const previous = await Promise.all(
          pods.map(async (pod) => {
            if (operation === 'setLinkedPod')
              return ex.setLinkedPod(ns, 'u1', SVC, { podId: pod, persistSeconds: 60 });
            const result = await ex.trySetLinkedPod(ns, 'u1', SVC, {
              podId: pod,
              persistSeconds: 60,
            });
            expect(result.linked).toBe(true);
            expect(result.current).toBe(pod);
            return result.previous;
          }),
        );
        // Applied one at a time in some order: one call saw no link, every other saw the pod
        // of the call just before it, and the last pod is the one nobody replaced.
        expect(previous.filter((pod) => pod === -1)).toHaveLength(1);
        const replaced = previous.filter((pod) => pod !== -1);
        expect(new Set(replaced).size).toBe(N - 1);
        const last = pods.find((pod) => !replaced.includes(pod));
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(last);
        expect(await ex.getLinkService(ns, 'u1')).toEqual({});
      },
    );
  },
);
