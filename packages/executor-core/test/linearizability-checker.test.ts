// The checker must be able to say "no": hand-made histories with a known verdict.
import { describe, expect, test } from 'vitest';
import {
  checkLinearizable,
  type HistoryEntry,
  type LinkOp,
  type LinkOutput,
} from './faults/linearizability-checker.js';

function call(
  client: number,
  callTime: number,
  retTime: number,
  op: LinkOp,
  output: LinkOutput,
): HistoryEntry {
  return { client, op, output, call: callTime, ret: retTime };
}

const set = (pod: number, persist = -1): LinkOp => ({ kind: 'setLinkedPod', pod, persist });
const trySet = (pod: number, persist = -1): LinkOp => ({ kind: 'trySetLinkedPod', pod, persist });
const ifAbsent = (pod: number, persist = -1): LinkOp => ({
  kind: 'setLinkedPodIfAbsent',
  pod,
  persist,
});
const get: LinkOp = { kind: 'getLinkedPod' };
const getPersist: LinkOp = { kind: 'getLinkedPodIfPersist' };
const remove: LinkOp = { kind: 'removeLinkedPod' };
const removeId = (pod: number): LinkOp => ({ kind: 'removeLinkedPodWithId', pod });

describe('linearizability checker', () => {
  test('accepts a history that needs its overlapping calls reordered', () => {
    const history = [
      // c0's set overlaps c1's read, which already sees its effect.
      call(0, 0, 10, set(1), -1),
      call(1, 1, 2, get, 1),
      call(2, 3, 4, getPersist, 1),
      // try on another pod is refused by the permanent link
      call(1, 11, 12, trySet(2), { linked: false, current: 1, previous: -1 }),
      // overlapping: remove-with-id of pod 1 and an if-absent that sees nothing
      call(0, 13, 20, removeId(1), true),
      call(2, 14, 19, ifAbsent(5, 100), 5),
      call(1, 21, 22, getPersist, -1),
      call(1, 23, 24, trySet(7), { linked: true, current: 7, previous: 5 }),
      call(0, 25, 26, remove, true),
      call(0, 27, 28, remove, false),
    ];
    const result = checkLinearizable(history);
    expect(result.linearizable).toBe(true);
  });

  test('rejects a stale read after a completed write', () => {
    const history = [call(0, 0, 1, set(1), -1), call(1, 2, 3, get, -1)];
    expect(checkLinearizable(history).linearizable).toBe(false);
  });

  test('rejects a lost update: two overlapping sets that both saw no previous link', () => {
    // Whichever set goes second must report the first one's pod as previous.
    const history = [call(0, 0, 5, set(1), -1), call(1, 1, 6, set(2), -1)];
    const result = checkLinearizable(history);
    expect(result.linearizable).toBe(false);
    if (!result.linearizable) expect(result.longestPrefix).toHaveLength(1);
  });

  test('rejects a temporary link that refuses trySet (only permanent links refuse)', () => {
    const history = [
      call(0, 0, 1, set(1, 100), -1),
      call(1, 2, 3, trySet(2), { linked: false, current: 1, previous: -1 }),
    ];
    expect(checkLinearizable(history).linearizable).toBe(false);
  });

  test('rejects a read that goes back in time between two readers', () => {
    // The set overlaps both reads, but the second read starts after the first one saw the
    // new value: it may not see the old one again.
    const history = [
      call(0, 0, 1, set(3), -1),
      call(0, 2, 20, set(4), 3),
      call(1, 3, 4, get, 4),
      call(2, 5, 6, get, 3),
    ];
    expect(checkLinearizable(history).linearizable).toBe(false);
  });

  test('rejects an if-absent that overwrote an existing link', () => {
    const history = [
      call(0, 0, 1, set(1), -1),
      call(1, 2, 3, ifAbsent(2), 2),
      call(0, 4, 5, get, 2),
    ];
    expect(checkLinearizable(history).linearizable).toBe(false);
  });

  test('handles a wide overlap quickly (memoisation)', () => {
    // 12 concurrent writers of distinct pods, each seeing a different previous: exactly one
    // order chains them, which the search must find among 12! orders.
    const history: HistoryEntry[] = [];
    const pods = [5, 3, 9, 1, 11, 7, 2, 10, 4, 8, 0, 6];
    pods.forEach((pod, i) => {
      history.push(call(i, i * 0.01, 100, set(pod), i === 0 ? -1 : pods[i - 1]!));
    });
    history.reverse();
    const result = checkLinearizable(history);
    expect(result.linearizable).toBe(true);
    expect(result.explored).toBeLessThan(10_000);
  });
});
