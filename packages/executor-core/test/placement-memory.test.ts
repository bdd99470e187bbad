// Placement on the memory backend with a clock the test moves (docs/placement.md): leases
// and temporary links end to the millisecond, and a 10-pod rolling restart. The same
// operations on every backend are in conformance/placement-suite.ts; these cases need exact
// time, which Redis (server time, no injectable clock) cannot give.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  createMemoryExecutor,
  NoCapacityError,
  type MemoryExecutor,
} from '@stateful-route/executor-core';
import { FakeClock } from './helpers/harness.js';

const NS = 'placement';
const SVC = 'room';

let clock: FakeClock;
let ex: MemoryExecutor;
beforeEach(() => {
  clock = new FakeClock();
  ex = createMemoryExecutor({ clock });
});
afterEach(async () => {
  await ex.close();
});

async function expectNoCapacity(call: Promise<unknown>): Promise<void> {
  await expect(call).rejects.toBeInstanceOf(NoCapacityError);
}

async function loads(): Promise<Record<string, number>> {
  const { pods } = await ex.placement(NS, SVC);
  return Object.fromEntries(Object.entries(pods).map(([id, pod]) => [id, pod.load]));
}

describe('leases', () => {
  test('a lease ends to the millisecond; a heartbeat brings the pod back with its claims', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 10 });
    expect((await ex.placement(NS, SVC)).pods['1']).toEqual({
      load: 0,
      capacity: 5,
      status: 'live',
      leaseMs: 10_000,
    });
    clock.advance(9_999);
    expect((await ex.placement(NS, SVC)).pods['1']).toMatchObject({ status: 'live', leaseMs: 1 });
    expect(await ex.allocate(NS, 'u1', SVC, { persistSeconds: -1 })).toEqual({
      podId: 1,
      created: true,
      load: 1,
      capacity: 5,
    });
    clock.advance(1);
    // The lease end is reached: dead, with no time left.
    expect((await ex.placement(NS, SVC)).pods['1']).toEqual({
      load: 1,
      capacity: 5,
      status: 'dead',
      leaseMs: 0,
    });
    await expectNoCapacity(ex.allocate(NS, 'u2', SVC, { persistSeconds: -1 }));
    clock.advance(1);
    expect((await ex.placement(NS, SVC)).pods['1']).toMatchObject({ status: 'dead', leaseMs: -1 });
    // Its links still resolve until a sweep.
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(1);
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 10 });
    expect((await ex.placement(NS, SVC)).pods['1']).toEqual({
      load: 1,
      capacity: 5,
      status: 'live',
      leaseMs: 10_000,
    });
    expect((await ex.allocate(NS, 'u2', SVC, { persistSeconds: -1 })).load).toBe(2);
  });

  test('a heartbeat before the end renews the lease from now, not from the old end', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 10 });
    clock.advance(4_000);
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 10 });
    expect((await ex.placement(NS, SVC)).pods['1']!.leaseMs).toBe(10_000);
    clock.advance(9_999);
    expect((await ex.placement(NS, SVC)).pods['1']!.status).toBe('live');
    clock.advance(1);
    expect((await ex.placement(NS, SVC)).pods['1']!.status).toBe('dead');
    // A shorter lease on a heartbeat shortens it.
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 60 });
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 1 });
    expect((await ex.placement(NS, SVC)).pods['1']!.leaseMs).toBe(1_000);
  });

  test('a sweep at the lease end removes the links; one ms before it removes nothing', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 10 });
    await ex.registerPod(NS, SVC, 2, { capacity: 5, ttlSeconds: 60 });
    await ex.allocate(NS, 'u1', SVC, { persistSeconds: -1 });
    clock.advance(9_999);
    expect(await ex.sweepDeadPods(NS, SVC)).toEqual({ swept: 0, released: 0 });
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(1);
    clock.advance(1);
    expect(await ex.sweepDeadPods(NS, SVC)).toEqual({ swept: 1, released: 1 });
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(-1);
    expect(Object.keys((await ex.placement(NS, SVC)).pods)).toEqual(['2']);
  });
});

describe('temporary links', () => {
  test('an expired link is counted until a reconcile releases its claim, to the millisecond', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 3600 });
    await ex.allocate(NS, 'u1', SVC, { persistSeconds: 30 });
    clock.advance(29_999);
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(1);
    expect(await ex.reconcilePlacement(NS, SVC)).toEqual({
      checked: 0,
      released: 0,
      confirmed: 0,
      adopted: 0,
    });
    clock.advance(1);
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(-1);
    expect(await loads()).toEqual({ 1: 1 });
    expect(await ex.reconcilePlacement(NS, SVC)).toEqual({
      checked: 1,
      released: 1,
      confirmed: 0,
      adopted: 0,
    });
    expect(await loads()).toEqual({ 1: 0 });
    expect(ex.telemetry.placement.claimsReleased.expired).toBe(1);
  });

  test('a link whose TTL was refreshed keeps its claim until its new end', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 3600 });
    await ex.allocate(NS, 'u1', SVC, { persistSeconds: 10 });
    clock.advance(5_000);
    // Another writer refreshes the link: it now ends at 105 s.
    await ex.setLinkedPod(NS, 'u1', SVC, { podId: 1, persistSeconds: 100 });
    clock.advance(5_000);
    expect(await ex.reconcilePlacement(NS, SVC)).toMatchObject({ checked: 1, released: 0 });
    expect(await loads()).toEqual({ 1: 1 });
    clock.advance(94_999);
    expect(await ex.reconcilePlacement(NS, SVC)).toMatchObject({ checked: 0, released: 0 });
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(1);
    clock.advance(1);
    expect(await ex.reconcilePlacement(NS, SVC)).toMatchObject({ checked: 1, released: 1 });
    expect(await loads()).toEqual({ 1: 0 });
  });

  test('a temporary link moved to another pod: its claim is released when it falls due', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 5, ttlSeconds: 3600 });
    await ex.registerPod(NS, SVC, 2, { capacity: 5, ttlSeconds: 3600 });
    expect((await ex.allocate(NS, 'u1', SVC, { persistSeconds: 10 })).podId).toBe(1);
    await ex.setLinkedPod(NS, 'u1', SVC, { podId: 2, persistSeconds: 100 });
    clock.advance(10_000);
    expect(await ex.reconcilePlacement(NS, SVC)).toMatchObject({ checked: 1, released: 1 });
    expect(await loads()).toEqual({ 1: 0, 2: 0 });
    expect(await ex.getLinkedPod(NS, 'u1', SVC)).toBe(2);
  });

  test('allocate frees the claims of expired links before it answers no capacity', async () => {
    await ex.registerPod(NS, SVC, 1, { capacity: 2, ttlSeconds: 3600 });
    await ex.allocate(NS, 'u1', SVC, { persistSeconds: 5 });
    await ex.allocate(NS, 'u2', SVC, { persistSeconds: 7 });
    clock.advance(4_999);
    await expectNoCapacity(ex.allocate(NS, 'u3', SVC, { persistSeconds: -1 }));
    clock.advance(1);
    // u1 expired: its place goes to u3; u2 still holds its own.
    expect(await ex.allocate(NS, 'u3', SVC, { persistSeconds: -1 })).toEqual({
      podId: 1,
      created: true,
      load: 2,
      capacity: 2,
    });
    await expectNoCapacity(ex.allocate(NS, 'u4', SVC, { persistSeconds: -1 }));
    clock.advance(2_000);
    expect((await ex.allocate(NS, 'u4', SVC, { persistSeconds: -1 })).created).toBe(true);
    expect(ex.telemetry.placement.claimsReleased.expired).toBe(2);
    expect(await loads()).toEqual({ 1: 2 });
    expect(await ex.batchGetLinkedPod(NS, ['u1', 'u2', 'u3', 'u4'], SVC)).toEqual({
      1: ['u3', 'u4'],
    });
  });
});

describe('a rolling restart of 10 pods', () => {
  test('nothing lands on a draining pod, its links resolve throughout, loads match links', async () => {
    const PODS = 10;
    const CAPACITY = 40;
    const TTL = 15;
    const where = new Map<string, number>();
    let next = 0;
    // The pods whose drain ended, and those of them that took a new user since.
    const undrained = new Set<number>();
    const placedAfterUndrain = new Set<number>();

    const heartbeat = async (except?: number) => {
      for (let pod = 0; pod < PODS; pod++) {
        if (pod !== except) {
          await ex.registerPod(NS, SVC, pod, { capacity: CAPACITY, ttlSeconds: TTL });
        }
      }
    };
    const place = async (count: number, avoid?: number) => {
      for (let i = 0; i < count; i++) {
        const uid = `user-${next++}`;
        const strategy = i % 4 === 3 ? 'packed' : 'least-loaded';
        const persistSeconds = i % 5 === 4 ? 3600 : -1;
        const result = await ex.allocate(NS, uid, SVC, { persistSeconds, strategy });
        expect(result.created).toBe(true);
        if (avoid !== undefined) expect(result.podId, uid).not.toBe(avoid);
        where.set(uid, result.podId);
        if (undrained.has(result.podId)) placedAfterUndrain.add(result.podId);
      }
    };
    const leave = async (count: number, pod?: number) => {
      const leaving = [...where].filter(([, p]) => pod === undefined || p === pod).slice(0, count);
      for (const [uid, p] of leaving) {
        expect(await ex.release(NS, uid, SVC)).toEqual({ released: true, podId: p });
        where.delete(uid);
      }
    };
    // Every link resolves where it was placed; each pod's load is its number of links.
    const audit = async () => {
      const expected: Record<number, string[]> = {};
      for (const [uid, pod] of where) (expected[pod] ??= []).push(uid);
      expect(await ex.batchGetLinkedPod(NS, [...where.keys()], SVC)).toEqual(expected);
      const { pods } = await ex.placement(NS, SVC);
      for (let pod = 0; pod < PODS; pod++) {
        expect(pods[pod]!.load, `pod ${pod}`).toBe(expected[pod]?.length ?? 0);
        expect(pods[pod]!.load).toBeLessThanOrEqual(CAPACITY);
        expect(pods[pod]!.status).not.toBe('dead');
      }
    };

    await heartbeat();
    await place(60);
    await audit();

    for (let k = 0; k < PODS; k++) {
      await ex.drainPod(NS, SVC, k);
      expect((await ex.placement(NS, SVC)).pods[k]!.status).toBe('draining');
      const onK = [...where].filter(([, pod]) => pod === k).map(([uid]) => uid);
      expect(onK.length).toBeGreaterThan(0);
      // Users come and go while k drains: nothing new lands on it.
      await place(12, k);
      await leave(2);
      await leave(1, k);
      clock.advance(2_000);
      await heartbeat();
      await place(6, k);
      // k restarts: it misses heartbeats for 5 s (its lease of 15 s holds), the others beat.
      clock.advance(5_000);
      await heartbeat(k);
      await place(4, k);
      for (const uid of onK) {
        if (where.has(uid)) expect(await ex.getLinkedPod(NS, uid, SVC), uid).toBe(k);
      }
      await audit();
      // Back up: it registers again (still draining: a drain survives registration), then
      // the drain ends.
      await ex.registerPod(NS, SVC, k, { capacity: CAPACITY, ttlSeconds: TTL });
      expect((await ex.placement(NS, SVC)).pods[k]!.status).toBe('draining');
      await place(2, k);
      await ex.undrainPod(NS, SVC, k);
      undrained.add(k);
      expect((await ex.placement(NS, SVC)).pods[k]!.status).toBe('live');
      // k takes placements again: the next least-loaded one goes to the pod of lowest load
      // (then lowest id), whichever that is, and k is among the candidates.
      const { pods } = await ex.placement(NS, SVC);
      const [expected] = Object.entries(pods)
        .map(([id, pod]) => [Number(id), pod.load] as const)
        .sort(([a, la], [b, lb]) => la - lb || a - b)[0]!;
      const first = await ex.allocate(NS, `user-${next}`, SVC, { persistSeconds: -1 });
      expect(first.podId).toBe(expected);
      where.set(`user-${next++}`, first.podId);
      if (undrained.has(first.podId)) placedAfterUndrain.add(first.podId);
      await place(3);
      await audit();
    }
    // Every restarted pod took new users again once its drain ended.
    await place(20);
    await audit();
    expect([...placedAfterUndrain].sort((a, b) => a - b)).toEqual(
      [...undrained].sort((a, b) => a - b),
    );

    const total = Object.values(await loads()).reduce((a, b) => a + b, 0);
    expect(total).toBe(where.size);
    expect(ex.telemetry.placement.allocations.no_capacity).toBe(0);
    expect(ex.telemetry.placement.claimsReleased.release).toBe(30);
  });
});
