/**
 * The placement conformance suite (issue 17, docs/placement.md): registration and leases,
 * `allocate` by strategy, existing links, no capacity, the link it writes, release, drain,
 * dead pods and the sweep, reconcile, the keys and the telemetry. Registered once per backend
 * by the `conformance.*.test.ts` files; the assertions are the same on every backend. The
 * cases that need time to pass (a 1 s lease, a 1 s temporary link) are set up together and
 * share one wait.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  CHANNELS,
  ERROR_TYPES,
  linkIndexKey,
  linkKey,
  MAX_PLACEMENT_INT,
  NoCapacityError,
  PLACEMENT_OPERATIONS,
  placementKeyPrefix,
  placementKeys,
  type Allocation,
  type AllocateOptions,
  type OperationMessage,
  type PodStatus,
} from '@stateful-route/executor-core';
import {
  createHarness,
  freshNamespace,
  type BackendName,
  type Harness,
  type HarnessOptions,
} from '../helpers/harness.js';

const SVC = 'room';

/** A pod in `placement()` without its lease time (which moves on Redis between two reads). */
interface PodView {
  load: number;
  capacity: number;
  status: PodStatus;
}

type Loose = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** The placement counters as a flat record: `allocations.created` -> n. */
type CounterImage = Record<string, number>;

export function placementConformanceSuite(
  backend: BackendName,
  options: HarnessOptions = {},
): void {
  const label = [
    backend,
    ...(options.autoPipelining ? ['with auto-pipelining'] : []),
    ...(options.nearCache ? ['through the near cache'] : []),
  ].join(' ');

  describe(`placement conformance on ${label}`, () => {
    let h: Harness;
    let ex: Harness['executor'];
    beforeAll(async () => {
      h = await createHarness(backend, options);
      ex = h.executor;
    });
    afterAll(async () => {
      await h.close();
    });

    // ---- helpers ------------------------------------------------------------------------

    async function register(
      ns: string,
      pods: readonly number[],
      capacity: number,
      ttlSeconds = 60,
      svc = SVC,
    ): Promise<void> {
      for (const pod of pods) await ex.registerPod(ns, svc, pod, { capacity, ttlSeconds });
    }

    function allocate(
      ns: string,
      uid: string,
      values: Partial<AllocateOptions> = {},
    ): Promise<Allocation> {
      return ex.allocate(ns, uid, SVC, { persistSeconds: -1, ...values });
    }

    async function view(ns: string, svc = SVC): Promise<Record<string, PodView>> {
      const { pods } = await ex.placement(ns, svc);
      const out: Record<string, PodView> = {};
      for (const [id, pod] of Object.entries(pods)) {
        out[id] = { load: pod.load, capacity: pod.capacity, status: pod.status };
      }
      return out;
    }

    async function loads(ns: string, svc = SVC): Promise<Record<string, number>> {
      const { pods } = await ex.placement(ns, svc);
      return Object.fromEntries(Object.entries(pods).map(([id, pod]) => [id, pod.load]));
    }

    async function failure(call: Promise<unknown>): Promise<unknown> {
      try {
        await call;
      } catch (error) {
        return error;
      }
      throw new Error('the call succeeded; a refusal was expected');
    }

    async function expectNoCapacity(call: Promise<unknown>): Promise<void> {
      const error = await failure(call);
      expect(error).toBeInstanceOf(NoCapacityError);
      expect(error).toMatchObject({ code: 'SR_NO_CAPACITY' });
    }

    /**
     * Everything of a namespace: every key with its content (sets and sorted sets read in
     * full on Redis), the placement of the given services, and whether the backend says the
     * namespace has data. TTLs, and the dates of temporary claims (`exp`, which a reconcile
     * may re-date from the link's PTTL, a few ms off), are compared in steps of 10 s: time
     * passing is no change, a refreshed TTL is.
     */
    async function image(ns: string, svcs: readonly string[] = [SVC]): Promise<unknown> {
      const raw = await h.raw.snapshot(ns);
      const client = h.raw.client;
      const keys: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(raw)) {
        const type = entry.type as string;
        let value: unknown = entry.value;
        if (client && type === 'zset') {
          const flat = await client.zrange(key, 0, -1, 'WITHSCORES');
          const dates = key.endsWith('}exp');
          value = flat.map((v, i) => (i % 2 && dates ? Math.round(Number(v) / 10_000) : v));
        }
        if (client && type === 'set') value = (await client.smembers(key)).sort();
        keys[key] = {
          type,
          value,
          ttl: entry.ttl > 0 ? Math.ceil(entry.ttl / 10) * 10 : entry.ttl,
        };
      }
      const placement: Record<string, unknown> = {};
      for (const svc of svcs) placement[svc] = await view(ns, svc);
      return { keys, placement, present: await ex.hasNamespaceKeys(ns) };
    }

    function counters(): CounterImage {
      const c = ex.telemetry.placement;
      const out: CounterImage = { sweeps: c.sweeps, linksSwept: c.linksSwept };
      for (const [k, v] of Object.entries(c.allocations)) out[`allocations.${k}`] = v;
      for (const [k, v] of Object.entries(c.claimsReleased)) out[`claimsReleased.${k}`] = v;
      return out;
    }

    /** What moved since `before`: only the counters that changed. */
    function moved(before: CounterImage): CounterImage {
      const now = counters();
      const out: CounterImage = {};
      for (const [k, v] of Object.entries(now)) if (v !== before[k]) out[k] = v - before[k]!;
      return out;
    }

    /** The link keys of a namespace, with the namespace replaced by `NS` in the key names. */
    async function linkImage(ns: string): Promise<Record<string, unknown>> {
      const raw = await h.raw.snapshot(ns);
      const out: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(raw)) {
        if (key.startsWith(placementKeyPrefix(ns, SVC))) continue;
        const ttl = entry.ttl > 0 ? Math.ceil(entry.ttl / 10) * 10 : entry.ttl;
        out[key.replace(`{${ns}:`, '{NS:')] = { ...entry, ttl };
      }
      return out;
    }

    // ---- validation -----------------------------------------------------------------------

    describe('validation: every rule, named by field and rule, nothing written', () => {
      type Case = [string, (ns: string) => Promise<unknown>, string, string];
      const loose = (): Loose => ex as unknown as Loose;
      const reg = (...args: unknown[]) => loose().registerPod!.apply(ex, args);
      const drain = (...args: unknown[]) => loose().drainPod!.apply(ex, args);
      const undrain = (...args: unknown[]) => loose().undrainPod!.apply(ex, args);
      const alloc = (...args: unknown[]) => loose().allocate!.apply(ex, args);
      const release = (...args: unknown[]) => loose().release!.apply(ex, args);
      const place = (...args: unknown[]) => loose().placement!.apply(ex, args);
      const sweep = (...args: unknown[]) => loose().sweepDeadPods!.apply(ex, args);
      const reconcile = (...args: unknown[]) => loose().reconcilePlacement!.apply(ex, args);
      const ok = { capacity: 5, ttlSeconds: 60 };

      // The id rules, for one position of an operation (a namespace also refuses ':').
      function idCases(field: string, call: (ns: string, id: unknown) => Promise<unknown>): Case[] {
        const bad: [string, unknown, string][] = [
          ['not a string', 42, 'type'],
          ['missing', undefined, 'type'],
          ['blank', '  ', 'blank'],
          ['empty', '', 'blank'],
          ['with a brace', 'a{b', 'forbidden-character'],
          ['with a control character', 'a\u0001b', 'control-character'],
          ['with a lone surrogate', 'a\ud800b', 'malformed-unicode'],
          ['over 512 bytes', 'é'.repeat(257), 'too-long'],
        ];
        if (field === 'namespace') bad.push(['with a colon', 'a:b', 'forbidden-character']);
        return bad.map(([name, id, rule]): Case => [
          `${field} ${name}`,
          (ns) => call(ns, id),
          field,
          rule,
        ]);
      }

      const cases: Record<string, Case[]> = {
        registerPod: [
          ...idCases('namespace', (_ns, id) => reg(id, SVC, 1, ok)),
          ...idCases('service', (ns, id) => reg(ns, id, 1, ok)),
          ['podId -1', (ns) => reg(ns, SVC, -1, ok), 'podId', 'range'],
          ['podId 1.5', (ns) => reg(ns, SVC, 1.5, ok), 'podId', 'integer'],
          ['podId a string', (ns) => reg(ns, SVC, '1', ok), 'podId', 'integer'],
          ['podId unsafe', (ns) => reg(ns, SVC, 2 ** 53, ok), 'podId', 'integer'],
          ['options missing', (ns) => reg(ns, SVC, 1), 'options', 'type'],
          ['options positional', (ns) => reg(ns, SVC, 1, 5, 60), 'options', 'type'],
          ['options an array', (ns) => reg(ns, SVC, 1, [5, 60]), 'options', 'type'],
          [
            'options misspelt',
            (ns) => reg(ns, SVC, 1, { ...ok, ttl: 60 }),
            'ttl',
            'unknown-option',
          ],
          ['capacity missing', (ns) => reg(ns, SVC, 1, { ttlSeconds: 60 }), 'capacity', 'required'],
          ['capacity -1', (ns) => reg(ns, SVC, 1, { ...ok, capacity: -1 }), 'capacity', 'range'],
          [
            'capacity 2^31',
            (ns) => reg(ns, SVC, 1, { ...ok, capacity: MAX_PLACEMENT_INT + 1 }),
            'capacity',
            'range',
          ],
          [
            'capacity 1.5',
            (ns) => reg(ns, SVC, 1, { ...ok, capacity: 1.5 }),
            'capacity',
            'integer',
          ],
          [
            'capacity "5"',
            (ns) => reg(ns, SVC, 1, { ...ok, capacity: '5' }),
            'capacity',
            'integer',
          ],
          [
            'capacity null',
            (ns) => reg(ns, SVC, 1, { ...ok, capacity: null }),
            'capacity',
            'integer',
          ],
          [
            'ttlSeconds missing',
            (ns) => reg(ns, SVC, 1, { capacity: 5 }),
            'ttlSeconds',
            'required',
          ],
          [
            'ttlSeconds 0',
            (ns) => reg(ns, SVC, 1, { ...ok, ttlSeconds: 0 }),
            'ttlSeconds',
            'range',
          ],
          [
            'ttlSeconds -1',
            (ns) => reg(ns, SVC, 1, { ...ok, ttlSeconds: -1 }),
            'ttlSeconds',
            'range',
          ],
          [
            'ttlSeconds 2^31',
            (ns) => reg(ns, SVC, 1, { ...ok, ttlSeconds: MAX_PLACEMENT_INT + 1 }),
            'ttlSeconds',
            'range',
          ],
          [
            'ttlSeconds 0.5',
            (ns) => reg(ns, SVC, 1, { ...ok, ttlSeconds: 0.5 }),
            'ttlSeconds',
            'integer',
          ],
        ],
        drainPod: [
          ...idCases('namespace', (_ns, id) => drain(id, SVC, 1)),
          ...idCases('service', (ns, id) => drain(ns, id, 1)),
          ['podId -1', (ns) => drain(ns, SVC, -1), 'podId', 'range'],
          ['podId missing', (ns) => drain(ns, SVC), 'podId', 'integer'],
        ],
        undrainPod: [
          ...idCases('namespace', (_ns, id) => undrain(id, SVC, 1)),
          ...idCases('service', (ns, id) => undrain(ns, id, 1)),
          ['podId NaN', (ns) => undrain(ns, SVC, Number.NaN), 'podId', 'integer'],
          ['podId -1', (ns) => undrain(ns, SVC, -1), 'podId', 'range'],
        ],
        allocate: [
          ...idCases('namespace', (_ns, id) => alloc(id, 'u9', SVC, { persistSeconds: -1 })),
          ...idCases('uid', (ns, id) => alloc(ns, id, SVC, { persistSeconds: -1 })),
          ...idCases('service', (ns, id) => alloc(ns, 'u9', id, { persistSeconds: -1 })),
          [
            'service with a brace',
            (ns) => alloc(ns, 'u9', 'a{', { persistSeconds: -1 }),
            'service',
            'forbidden-character',
          ],
          [
            'service over 512 bytes',
            (ns) => alloc(ns, 'u9', 'x'.repeat(513), { persistSeconds: -1 }),
            'service',
            'too-long',
          ],
          ['options missing', (ns) => alloc(ns, 'u9', SVC), 'options', 'type'],
          ['options positional', (ns) => alloc(ns, 'u9', SVC, -1), 'options', 'type'],
          [
            'persistSeconds missing',
            (ns) => alloc(ns, 'u9', SVC, {}),
            'persistSeconds',
            'required',
          ],
          [
            'persistSeconds 0',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: 0 }),
            'persistSeconds',
            'range',
          ],
          [
            'persistSeconds -2',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: -2 }),
            'persistSeconds',
            'range',
          ],
          [
            'persistSeconds 2^31',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: 2 ** 31 }),
            'persistSeconds',
            'range',
          ],
          [
            'persistSeconds 1.5',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: 1.5 }),
            'persistSeconds',
            'integer',
          ],
          [
            'persistSeconds "60"',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: '60' }),
            'persistSeconds',
            'integer',
          ],
          [
            'strategy unknown',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: -1, strategy: 'random' }),
            'strategy',
            'one-of',
          ],
          [
            'strategy null',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: -1, strategy: null }),
            'strategy',
            'one-of',
          ],
          [
            'a podId option (allocate chooses the pod)',
            (ns) => alloc(ns, 'u9', SVC, { persistSeconds: -1, podId: 1 }),
            'podId',
            'unknown-option',
          ],
        ],
        release: [
          ...idCases('namespace', (_ns, id) => release(id, 'u1', SVC)),
          ...idCases('uid', (ns, id) => release(ns, id, SVC)),
          ...idCases('service', (ns, id) => release(ns, 'u1', id)),
          ['uid blank', (ns) => release(ns, ' ', SVC), 'uid', 'blank'],
          ['uid with a brace', (ns) => release(ns, 'u}1', SVC), 'uid', 'forbidden-character'],
          ['uid missing', (ns) => release(ns), 'uid', 'type'],
          [
            'service with a control character',
            (ns) => release(ns, 'u1', 'r\n'),
            'service',
            'control-character',
          ],
          ['service missing', (ns) => release(ns, 'u1'), 'service', 'type'],
        ],
        placement: [
          ...idCases('namespace', (_ns, id) => place(id, SVC)),
          ...idCases('service', (ns, id) => place(ns, id)),
          ['service with a brace', (ns) => place(ns, '{x}'), 'service', 'forbidden-character'],
          ['service blank', (ns) => place(ns, ''), 'service', 'blank'],
        ],
        sweepDeadPods: [
          ...idCases('namespace', (_ns, id) => sweep(id, SVC)),
          ...idCases('service', (ns, id) => sweep(ns, id)),
          ['service with a brace', (ns) => sweep(ns, 'a{'), 'service', 'forbidden-character'],
          ['options not an object', (ns) => sweep(ns, SVC, 100), 'options', 'type'],
          ['options null', (ns) => sweep(ns, SVC, null), 'options', 'type'],
          ['options misspelt', (ns) => sweep(ns, SVC, { bacth: 10 }), 'bacth', 'unknown-option'],
          [
            'full is not an option of the sweep',
            (ns) => sweep(ns, SVC, { full: true }),
            'full',
            'unknown-option',
          ],
          ['batch 0', (ns) => sweep(ns, SVC, { batch: 0 }), 'batch', 'range'],
          ['batch 201', (ns) => sweep(ns, SVC, { batch: 201 }), 'batch', 'range'],
          ['batch 1.5', (ns) => sweep(ns, SVC, { batch: 1.5 }), 'batch', 'integer'],
          ['batch "10"', (ns) => sweep(ns, SVC, { batch: '10' }), 'batch', 'integer'],
        ],
        reconcilePlacement: [
          ...idCases('namespace', (_ns, id) => reconcile(id, SVC)),
          ...idCases('service', (ns, id) => reconcile(ns, id)),
          ['service blank', (ns) => reconcile(ns, '   '), 'service', 'blank'],
          ['options an array', (ns) => reconcile(ns, SVC, []), 'options', 'type'],
          ['options misspelt', (ns) => reconcile(ns, SVC, { ful: true }), 'ful', 'unknown-option'],
          ['full "yes"', (ns) => reconcile(ns, SVC, { full: 'yes' }), 'full', 'type'],
          ['full 1', (ns) => reconcile(ns, SVC, { full: 1 }), 'full', 'type'],
          ['batch 0', (ns) => reconcile(ns, SVC, { batch: 0 }), 'batch', 'range'],
          ['batch 201', (ns) => reconcile(ns, SVC, { batch: 201, full: true }), 'batch', 'range'],
          ['batch NaN', (ns) => reconcile(ns, SVC, { batch: Number.NaN }), 'batch', 'integer'],
        ],
      };

      test('every placement operation has its cases', () => {
        expect(Object.keys(cases).sort()).toEqual([...PLACEMENT_OPERATIONS].sort());
      });

      test.each(Object.keys(cases))('%s', async (operation) => {
        const ns = freshNamespace();
        // Some data to leave untouched: a registered pod, a drained one, a placed uid.
        await register(ns, [1, 2], 5);
        await ex.drainPod(ns, SVC, 2);
        await allocate(ns, 'u1');
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 1, persistSeconds: 300 });
        const before = await image(ns);
        const countersBefore = counters();
        for (const [name, call, field, rule] of cases[operation]!) {
          const error = await failure(call(ns));
          expect(error, name).toMatchObject({ code: 'SR_VALIDATION', field, rule });
        }
        expect(await image(ns)).toEqual(before);
        expect(moved(countersBefore)).toEqual({});
      });
    });

    // ---- registration and placement() --------------------------------------------------------

    describe('registerPod and placement()', () => {
      test('an unknown service has no pods', async () => {
        const ns = freshNamespace();
        const result = await ex.placement(ns, SVC);
        expect(result).toEqual({ pods: {} });
        expect(Object.getPrototypeOf(result.pods)).toBe(Object.prototype);
        expect(await h.raw.snapshot(ns)).toEqual({});
      });

      test('registered pods show load 0, their capacity, status live and the lease left', async () => {
        const ns = freshNamespace();
        await ex.registerPod(ns, SVC, 0, { capacity: 5, ttlSeconds: 60 });
        await ex.registerPod(ns, SVC, 7, { capacity: 0, ttlSeconds: 30 });
        await ex.registerPod(ns, SVC, 3, {
          capacity: MAX_PLACEMENT_INT,
          ttlSeconds: MAX_PLACEMENT_INT,
        });
        await ex.registerPod(ns, 'chat', 1, { capacity: 1, ttlSeconds: 60 });
        const { pods } = await ex.placement(ns, SVC);
        expect(Object.keys(pods).sort()).toEqual(['0', '3', '7']);
        expect(pods['0']).toMatchObject({ load: 0, capacity: 5, status: 'live' });
        expect(pods['0']!.leaseMs).toBeGreaterThan(50_000);
        expect(pods['0']!.leaseMs).toBeLessThanOrEqual(60_000);
        expect(pods['7']).toMatchObject({ load: 0, capacity: 0, status: 'live' });
        expect(pods['7']!.leaseMs).toBeGreaterThan(20_000);
        expect(pods['7']!.leaseMs).toBeLessThanOrEqual(30_000);
        expect(pods['3']).toMatchObject({ load: 0, capacity: MAX_PLACEMENT_INT, status: 'live' });
        expect(pods['3']!.leaseMs).toBeGreaterThan(MAX_PLACEMENT_INT * 1000 - 60_000);
        expect(Object.keys(await view(ns, 'chat'))).toEqual(['1']);
      });

      test('a heartbeat renews the lease and may change the capacity; the load stays', async () => {
        const ns = freshNamespace();
        await ex.registerPod(ns, SVC, 1, { capacity: 3, ttlSeconds: 5 });
        await allocate(ns, 'u1');
        await allocate(ns, 'u2');
        await ex.registerPod(ns, SVC, 1, { capacity: 10, ttlSeconds: 120 });
        const { pods } = await ex.placement(ns, SVC);
        expect(pods['1']).toMatchObject({ load: 2, capacity: 10, status: 'live' });
        expect(pods['1']!.leaseMs).toBeGreaterThan(100_000);
        // A capacity below the load is accepted: nothing more is placed there.
        await ex.registerPod(ns, SVC, 1, { capacity: 1, ttlSeconds: 120 });
        expect(await view(ns)).toEqual({ 1: { load: 2, capacity: 1, status: 'live' } });
        await expectNoCapacity(allocate(ns, 'u3'));
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(1);
        expect(await ex.getLinkedPod(ns, 'u2', SVC)).toBe(1);
        expect(await ex.getLinkedPod(ns, 'u3', SVC)).toBe(-1);
      });

      test('drain and undrain show in the status; a drain survives heartbeats', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 4);
        await ex.drainPod(ns, SVC, 2);
        await ex.drainPod(ns, SVC, 2);
        expect(await view(ns)).toEqual({
          1: { load: 0, capacity: 4, status: 'live' },
          2: { load: 0, capacity: 4, status: 'draining' },
        });
        await ex.registerPod(ns, SVC, 2, { capacity: 6, ttlSeconds: 60 });
        expect((await view(ns))['2']).toEqual({ load: 0, capacity: 6, status: 'draining' });
        await ex.undrainPod(ns, SVC, 2);
        await ex.undrainPod(ns, SVC, 2);
        await ex.undrainPod(ns, SVC, 1);
        expect(await view(ns)).toEqual({
          1: { load: 0, capacity: 4, status: 'live' },
          2: { load: 0, capacity: 6, status: 'live' },
        });
      });
    });

    // ---- allocate: strategies -------------------------------------------------------------

    describe('allocate: least-loaded (the default)', () => {
      test('equal capacities: loads differ by at most 1, ties go to the lower pod id', async () => {
        const ns = freshNamespace();
        await register(ns, [9, 2, 5], 4);
        const chosen: number[] = [];
        for (let i = 0; i < 12; i++) {
          const result = await allocate(ns, `u${i}`);
          expect(result).toEqual({
            podId: result.podId,
            created: true,
            load: Math.floor(i / 3) + 1,
            capacity: 4,
          });
          chosen.push(result.podId);
          const now = Object.values(await loads(ns));
          expect(Math.max(...now) - Math.min(...now)).toBeLessThanOrEqual(1);
        }
        expect(chosen).toEqual([2, 5, 9, 2, 5, 9, 2, 5, 9, 2, 5, 9]);
        await expectNoCapacity(allocate(ns, 'u12'));
        expect(await loads(ns)).toEqual({ 2: 4, 5: 4, 9: 4 });
      });

      test('the lowest load / capacity wins, ties go to the lower pod id', async () => {
        const ns = freshNamespace();
        await ex.registerPod(ns, SVC, 2, { capacity: 4, ttlSeconds: 60 });
        await ex.registerPod(ns, SVC, 1, { capacity: 2, ttlSeconds: 60 });
        const chosen: number[] = [];
        for (let i = 0; i < 6; i++) {
          chosen.push((await allocate(ns, `u${i}`, { strategy: 'least-loaded' })).podId);
        }
        // 0/2 = 0/4: pod 1; 1/2 > 0/4: pod 2; 1/2 > 1/4: pod 2; 1/2 = 2/4: pod 1; then pod 1
        // is full.
        expect(chosen).toEqual([1, 2, 2, 1, 2, 2]);
        await expectNoCapacity(allocate(ns, 'u6', { strategy: 'least-loaded' }));
      });

      test('a pod freed by a release is filled first', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2, 3], 5);
        for (let i = 0; i < 9; i++) await allocate(ns, `u${i}`);
        const onTwo = (await ex.batchGetLinkedPod(ns, ['u0', 'u1', 'u2', 'u3', 'u4'], SVC))[2]!;
        await ex.release(ns, onTwo[0]!, SVC);
        await ex.release(ns, onTwo[1]!, SVC);
        expect(await loads(ns)).toEqual({ 1: 3, 2: 1, 3: 3 });
        expect((await allocate(ns, 'v1')).podId).toBe(2);
        expect((await allocate(ns, 'v2')).podId).toBe(2);
        expect((await allocate(ns, 'v3')).podId).toBe(1);
      });
    });

    describe('allocate: packed', () => {
      test('fills the fullest pod that has room, the lower pod id first', async () => {
        const ns = freshNamespace();
        await register(ns, [3, 1, 2], 3);
        const chosen: number[] = [];
        for (let i = 0; i < 7; i++) {
          const result = await allocate(ns, `u${i}`, { strategy: 'packed' });
          expect(result.created).toBe(true);
          expect(result.capacity).toBe(3);
          chosen.push(result.podId);
        }
        expect(chosen).toEqual([1, 1, 1, 2, 2, 2, 3]);
        expect(await loads(ns)).toEqual({ 1: 3, 2: 3, 3: 1 });
        // A place freed on pod 2: packed fills it again before pod 3, least-loaded does not.
        await ex.release(ns, 'u4', SVC);
        expect(await allocate(ns, 'v1', { strategy: 'packed' })).toEqual({
          podId: 2,
          created: true,
          load: 3,
          capacity: 3,
        });
        await ex.release(ns, 'u5', SVC);
        expect((await allocate(ns, 'v2', { strategy: 'least-loaded' })).podId).toBe(3);
      });

      test('pods in use = ceil(N / C) while nothing is released', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2, 3, 4, 5, 6], 4);
        for (let n = 1; n <= 14; n++) {
          await allocate(ns, `u${n}`, { strategy: 'packed', persistSeconds: n % 2 ? -1 : 300 });
          const inUse = Object.values(await loads(ns)).filter((load) => load > 0).length;
          expect(inUse, `after ${n}`).toBe(Math.ceil(n / 4));
        }
        expect(await loads(ns)).toEqual({ 1: 4, 2: 4, 3: 4, 4: 2, 5: 0, 6: 0 });
      });

      test('the ratio decides, not the load: both strategies', async () => {
        const ns = freshNamespace();
        await ex.registerPod(ns, SVC, 1, { capacity: 10, ttlSeconds: 60 });
        await ex.registerPod(ns, SVC, 2, { capacity: 2, ttlSeconds: 60 });
        // Steer with drains: 3 users on pod 1 (0.3), 1 on pod 2 (0.5).
        await ex.drainPod(ns, SVC, 2);
        for (const uid of ['a', 'b', 'c']) expect((await allocate(ns, uid)).podId).toBe(1);
        await ex.undrainPod(ns, SVC, 2);
        await ex.drainPod(ns, SVC, 1);
        expect((await allocate(ns, 'd')).podId).toBe(2);
        await ex.undrainPod(ns, SVC, 1);
        // least-loaded: 0.3 < 0.5 although 3 > 1.
        expect((await allocate(ns, 'e')).podId).toBe(1);
        // packed: 0.5 > 0.4 although 1 < 4.
        expect((await allocate(ns, 'f', { strategy: 'packed' })).podId).toBe(2);
        // Pod 2 is full now: packed takes pod 1.
        expect((await allocate(ns, 'g', { strategy: 'packed' })).podId).toBe(1);
        expect(await loads(ns)).toEqual({ 1: 5, 2: 2 });
      });
    });

    describe('allocate: capacity 0', () => {
      test('a pod of capacity 0 is never chosen, by either strategy', async () => {
        const ns = freshNamespace();
        await ex.registerPod(ns, SVC, 0, { capacity: 0, ttlSeconds: 60 });
        await ex.registerPod(ns, SVC, 1, { capacity: 1, ttlSeconds: 60 });
        await ex.registerPod(ns, SVC, 2, { capacity: 0, ttlSeconds: 60 });
        expect((await allocate(ns, 'u1', { strategy: 'packed' })).podId).toBe(1);
        await expectNoCapacity(allocate(ns, 'u2', { strategy: 'packed' }));
        await expectNoCapacity(allocate(ns, 'u2', { strategy: 'least-loaded' }));
        await ex.release(ns, 'u1', SVC);
        expect((await allocate(ns, 'u2')).podId).toBe(1);
        expect(await view(ns)).toEqual({
          0: { load: 0, capacity: 0, status: 'live' },
          1: { load: 1, capacity: 1, status: 'live' },
          2: { load: 0, capacity: 0, status: 'live' },
        });
      });
    });

    // ---- allocate: existing links ---------------------------------------------------------

    describe('allocate: a uid that has a link gets it back, created false, nothing changes', () => {
      test('a link allocate wrote (permanent or temporary; other options change nothing)', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 5);
        expect(await allocate(ns, 'u1')).toEqual({
          podId: 1,
          created: true,
          load: 1,
          capacity: 5,
        });
        expect(await allocate(ns, 'u2', { persistSeconds: 100 })).toEqual({
          podId: 2,
          created: true,
          load: 1,
          capacity: 5,
        });
        const before = await image(ns);
        const countersBefore = counters();
        expect(await allocate(ns, 'u1', { persistSeconds: 5000, strategy: 'packed' })).toEqual({
          podId: 1,
          created: false,
          load: 1,
          capacity: 5,
        });
        // Not made permanent, TTL not refreshed.
        expect(await allocate(ns, 'u2', { persistSeconds: -1 })).toEqual({
          podId: 2,
          created: false,
          load: 1,
          capacity: 5,
        });
        expect(await allocate(ns, 'u2', { persistSeconds: 5000 })).toMatchObject({
          podId: 2,
          created: false,
        });
        expect(await image(ns)).toEqual(before);
        expect(moved(countersBefore)).toEqual({ 'allocations.existing': 3 });
      });

      test('a link written by setLinkedPod: returned as it is, not counted as a claim', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 5);
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 2, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 42, persistSeconds: 300 });
        await ex.setLinkedPod(ns, 'u3', SVC, { podId: 0, persistSeconds: -1 });
        const before = await image(ns);
        expect(await allocate(ns, 'u1')).toEqual({
          podId: 2,
          created: false,
          load: 0,
          capacity: 5,
        });
        // The pod is not registered: load and capacity are null.
        expect(await allocate(ns, 'u2')).toEqual({
          podId: 42,
          created: false,
          load: null,
          capacity: null,
        });
        // Pod 0 is a pod, not an absent link.
        expect(await allocate(ns, 'u3', { strategy: 'packed' })).toEqual({
          podId: 0,
          created: false,
          load: null,
          capacity: null,
        });
        expect(await image(ns)).toEqual(before);
        expect(await loads(ns)).toEqual({ 1: 0, 2: 0 });
      });

      test('also in a service that has no placement data at all', async () => {
        const ns = freshNamespace();
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 4, persistSeconds: -1 });
        const before = await image(ns);
        expect(await allocate(ns, 'u1')).toEqual({
          podId: 4,
          created: false,
          load: null,
          capacity: null,
        });
        expect(await image(ns)).toEqual(before);
      });
    });

    // ---- allocate: no capacity ------------------------------------------------------------

    describe('allocate: SR_NO_CAPACITY writes nothing', () => {
      test('no pod registered', async () => {
        const ns = freshNamespace();
        const before = counters();
        await expectNoCapacity(allocate(ns, 'u1'));
        await expectNoCapacity(allocate(ns, 'u1', { strategy: 'packed', persistSeconds: 60 }));
        expect(await h.raw.snapshot(ns)).toEqual({});
        expect(await ex.hasNamespaceKeys(ns)).toBe(false);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
        expect(moved(before)).toEqual({ 'allocations.no_capacity': 2 });
      });

      test('every live pod full (a draining pod with room does not count)', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 1);
        await ex.registerPod(ns, SVC, 3, { capacity: 5, ttlSeconds: 60 });
        await ex.drainPod(ns, SVC, 3);
        await allocate(ns, 'u1');
        await allocate(ns, 'u2', { persistSeconds: 300 });
        await ex.setLinkedPod(ns, 'u9', 'chat', { podId: 1, persistSeconds: -1 });
        const before = await image(ns);
        const countersBefore = counters();
        for (const values of [
          {},
          { persistSeconds: 60 },
          { strategy: 'packed' as const },
          { strategy: 'least-loaded' as const, persistSeconds: 1 },
        ]) {
          await expectNoCapacity(allocate(ns, 'u3', values));
          await expectNoCapacity(allocate(ns, 'u9', values));
        }
        expect(await image(ns)).toEqual(before);
        expect(await ex.getLinkedPod(ns, 'u3', SVC)).toBe(-1);
        expect(await ex.getLinkService(ns, 'u9')).toEqual({ chat: 1 });
        expect(await loads(ns)).toEqual({ 1: 1, 2: 1, 3: 0 });
        expect(moved(countersBefore)).toEqual({ 'allocations.no_capacity': 8 });
      });
    });

    // ---- the link -----------------------------------------------------------------------------

    describe('the link allocate writes is an ordinary contract link', () => {
      test('permanent: exactly what setLinkedPod(-1) writes, index included', async () => {
        const placed = freshNamespace();
        const linked = freshNamespace();
        for (const ns of [placed, linked]) {
          await ex.setLinkedPod(ns, 'u1', 'chat', { podId: 9, persistSeconds: -1 });
        }
        await ex.registerPod(placed, SVC, 4, { capacity: 5, ttlSeconds: 60 });
        expect((await allocate(placed, 'u1')).podId).toBe(4);
        await ex.setLinkedPod(linked, 'u1', SVC, { podId: 4, persistSeconds: -1 });
        expect(await linkImage(placed)).toEqual(await linkImage(linked));
        const raw = await h.raw.snapshot(placed);
        expect(raw[linkKey(placed, 'u1', SVC)]).toEqual({ type: 'string', value: '4', ttl: -1 });
        expect(raw[linkIndexKey(placed, 'u1')]).toEqual({
          type: 'hash',
          value: { chat: '9', [SVC]: '4' },
          ttl: -1,
        });
        expect(await ex.getLinkedPod(placed, 'u1', SVC)).toBe(4);
        expect(await ex.getLinkedPodIfPersist(placed, 'u1', SVC)).toBe(4);
        expect(await ex.getLinkService(placed, 'u1')).toEqual({ chat: 9, [SVC]: 4 });
        expect(await ex.batchGetLinkedPod(placed, ['u1', 'u2'], SVC)).toEqual({ 4: ['u1'] });
      });

      test('temporary: exactly what setLinkedPod(300) writes, with its TTL and no index entry', async () => {
        const placed = freshNamespace();
        const linked = freshNamespace();
        for (const ns of [placed, linked]) {
          await ex.setLinkedPod(ns, 'u1', 'chat', { podId: 9, persistSeconds: -1 });
        }
        await ex.registerPod(placed, SVC, 4, { capacity: 5, ttlSeconds: 60 });
        expect((await allocate(placed, 'u1', { persistSeconds: 300 })).podId).toBe(4);
        await ex.setLinkedPod(linked, 'u1', SVC, { podId: 4, persistSeconds: 300 });
        expect(await linkImage(placed)).toEqual(await linkImage(linked));
        const link = (await h.raw.snapshot(placed))[linkKey(placed, 'u1', SVC)]!;
        expect(link.type).toBe('string');
        expect(link.value).toBe('4');
        expect(link.ttl).toBeGreaterThan(290);
        expect(link.ttl).toBeLessThanOrEqual(300);
        expect(await ex.getLinkedPod(placed, 'u1', SVC)).toBe(4);
        expect(await ex.getLinkedPodIfPersist(placed, 'u1', SVC)).toBe(-1);
        expect(await ex.getLinkService(placed, 'u1')).toEqual({ chat: 9 });
      });

      test('the contract operations read and write it like any other link', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 5);
        await allocate(ns, 'u1');
        expect(await ex.trySetLinkedPod(ns, 'u1', SVC, { podId: 2, persistSeconds: -1 })).toEqual({
          linked: false,
          current: 1,
          previous: -1,
        });
        expect(await ex.setLinkedPodIfAbsent(ns, 'u1', SVC, { podId: 2, persistSeconds: -1 })).toBe(
          1,
        );
        expect(await ex.removeLinkedPodWithId(ns, 'u1', SVC, { podId: 1 })).toBe(true);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
      });
    });

    // ---- release -----------------------------------------------------------------------------

    describe('release', () => {
      test('deletes the link and frees the claim: { released: true, podId }', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 1);
        await ex.setLinkedPod(ns, 'u1', 'chat', { podId: 3, persistSeconds: -1 });
        const countersBefore = counters();
        await allocate(ns, 'u1');
        await expectNoCapacity(allocate(ns, 'u2'));
        expect(await ex.release(ns, 'u1', SVC)).toEqual({ released: true, podId: 1 });
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
        expect(await ex.getLinkService(ns, 'u1')).toEqual({ chat: 3 });
        const raw = await h.raw.snapshot(ns);
        expect(raw[linkKey(ns, 'u1', SVC)]).toBeUndefined();
        expect(raw[linkIndexKey(ns, 'u1')]).toEqual({
          type: 'hash',
          value: { chat: '3' },
          ttl: -1,
        });
        expect(await loads(ns)).toEqual({ 1: 0 });
        // The freed place is taken by the next user.
        expect(await allocate(ns, 'u2')).toEqual({ podId: 1, created: true, load: 1, capacity: 1 });
        expect(moved(countersBefore)).toEqual({
          'allocations.created': 2,
          'allocations.no_capacity': 1,
          'claimsReleased.release': 1,
        });
      });

      test('a temporary allocation, and pod 0', async () => {
        const ns = freshNamespace();
        await register(ns, [0], 2);
        await allocate(ns, 'u1', { persistSeconds: 300 });
        expect(await ex.release(ns, 'u1', SVC)).toEqual({ released: true, podId: 0 });
        expect(await loads(ns)).toEqual({ 0: 0 });
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
      });

      test('a uid without a link: { released: false, podId: -1 }, nothing changes', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 5);
        await allocate(ns, 'u1');
        const before = await image(ns, [SVC, 'other']);
        const countersBefore = counters();
        expect(await ex.release(ns, 'nobody', SVC)).toEqual({ released: false, podId: -1 });
        expect(await ex.release(ns, 'u1', 'other')).toEqual({ released: false, podId: -1 });
        expect(await image(ns, [SVC, 'other'])).toEqual(before);
        // Twice: the second finds nothing.
        expect(await ex.release(ns, 'u1', SVC)).toEqual({ released: true, podId: 1 });
        expect(await ex.release(ns, 'u1', SVC)).toEqual({ released: false, podId: -1 });
        expect(moved(countersBefore)).toEqual({ 'claimsReleased.release': 1 });
        const empty = freshNamespace();
        expect(await ex.release(empty, 'u1', SVC)).toEqual({ released: false, podId: -1 });
        expect(await h.raw.snapshot(empty)).toEqual({});
      });

      test("the uid's claim is freed also when another writer moved or removed its link", async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 5);
        expect((await allocate(ns, 'u1')).podId).toBe(1);
        expect((await allocate(ns, 'u2')).podId).toBe(2);
        await ex.setLinkedPod(ns, 'u1', SVC, { podId: 2, persistSeconds: -1 });
        await ex.removeLinkedPod(ns, 'u2', SVC);
        const countersBefore = counters();
        // The link holds pod 2 now: it is deleted, and the claim on pod 1 covers nothing.
        expect(await ex.release(ns, 'u1', SVC)).toEqual({ released: true, podId: 2 });
        expect(await ex.release(ns, 'u2', SVC)).toEqual({ released: false, podId: -1 });
        expect(await loads(ns)).toEqual({ 1: 0, 2: 0 });
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
        expect(moved(countersBefore)).toEqual({ 'claimsReleased.release': 2 });
      });

      test('a link written by setLinkedPod is removed; no claim is released', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 2);
        await allocate(ns, 'u1');
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 1, persistSeconds: -1 });
        const countersBefore = counters();
        expect(await ex.release(ns, 'u2', SVC)).toEqual({ released: true, podId: 1 });
        expect(await ex.getLinkedPod(ns, 'u2', SVC)).toBe(-1);
        expect(await ex.getLinkService(ns, 'u2')).toEqual({});
        expect(await loads(ns)).toEqual({ 1: 1 });
        expect(moved(countersBefore)).toEqual({});
      });
    });

    // ---- drain ---------------------------------------------------------------------------------

    describe('drain', () => {
      test('a draining pod gets no placement, its links resolve; undrain restores it', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2, 3], 10);
        const first: string[] = [];
        for (let i = 0; i < 6; i++) first.push(`u${i}`);
        for (const uid of first) await allocate(ns, uid);
        const onTwo = (await ex.batchGetLinkedPod(ns, first, SVC))[2]!;
        expect(onTwo).toHaveLength(2);
        await ex.drainPod(ns, SVC, 2);
        expect((await view(ns))['2']).toEqual({ load: 2, capacity: 10, status: 'draining' });
        for (let i = 0; i < 8; i++) {
          const result = await allocate(ns, `d${i}`, {
            strategy: i % 2 ? 'packed' : 'least-loaded',
          });
          expect(result.podId).not.toBe(2);
        }
        for (const uid of onTwo) {
          expect(await ex.getLinkedPod(ns, uid, SVC)).toBe(2);
          expect(await allocate(ns, uid)).toEqual({
            podId: 2,
            created: false,
            load: 2,
            capacity: 10,
          });
        }
        expect((await ex.batchGetLinkedPod(ns, first, SVC))[2]).toEqual(onTwo);
        expect((await loads(ns))['2']).toBe(2);
        await ex.undrainPod(ns, SVC, 2);
        expect((await view(ns))['2']!.status).toBe('live');
        // The least loaded pod again: pod 2.
        expect((await allocate(ns, 'after')).podId).toBe(2);
      });

      test('every pod draining: SR_NO_CAPACITY, nothing written', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 10);
        await allocate(ns, 'u1');
        await ex.drainPod(ns, SVC, 1);
        await ex.drainPod(ns, SVC, 2);
        const before = await image(ns);
        await expectNoCapacity(allocate(ns, 'u2'));
        await expectNoCapacity(allocate(ns, 'u2', { strategy: 'packed' }));
        expect(await image(ns)).toEqual(before);
        expect(await allocate(ns, 'u1')).toMatchObject({ podId: 1, created: false });
      });
    });

    // ---- sweep and reconcile without dead pods -----------------------------------------------

    describe('sweepDeadPods and reconcilePlacement with nothing to repair', () => {
      test('live pods are not swept; an empty service answers zeros', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 5);
        await ex.drainPod(ns, SVC, 2);
        await allocate(ns, 'u1');
        await allocate(ns, 'u2', { persistSeconds: 300 });
        const before = await image(ns);
        const countersBefore = counters();
        expect(await ex.sweepDeadPods(ns, SVC)).toEqual({ swept: 0, released: 0 });
        expect(await ex.sweepDeadPods(ns, SVC, { batch: 1 })).toEqual({ swept: 0, released: 0 });
        expect(await ex.reconcilePlacement(ns, SVC)).toEqual({
          checked: 0,
          released: 0,
          confirmed: 0,
          adopted: 0,
        });
        expect(await ex.reconcilePlacement(ns, SVC, { full: true, batch: 1 })).toMatchObject({
          released: 0,
          confirmed: 0,
          adopted: 0,
        });
        expect(await image(ns)).toEqual(before);
        expect(moved(countersBefore)).toEqual({ sweeps: 2 });
        const empty = freshNamespace();
        expect(await ex.sweepDeadPods(empty, SVC)).toEqual({ swept: 0, released: 0 });
        expect(await ex.reconcilePlacement(empty, SVC, { full: true })).toEqual({
          checked: 0,
          released: 0,
          confirmed: 0,
          adopted: 0,
        });
        expect(await h.raw.snapshot(empty)).toEqual({});
      });
    });

    describe('reconcilePlacement full: links changed by other writers', () => {
      test('releases claims whose link was removed or moved, adopts links to registered pods', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2], 5);
        expect((await allocate(ns, 'u1')).podId).toBe(1);
        expect((await allocate(ns, 'u2')).podId).toBe(2);
        expect((await allocate(ns, 'u6', { persistSeconds: 300 })).podId).toBe(1);
        // Other writers: u1 removed, u2 moved to pod 1, u3 and u4 linked by setLinkedPod (u4
        // to a pod that is not registered), u5 linked in another service.
        expect(await ex.removeLinkedPod(ns, 'u1', SVC)).toBe(true);
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 1, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u3', SVC, { podId: 2, persistSeconds: 300 });
        await ex.setLinkedPod(ns, 'u4', SVC, { podId: 99, persistSeconds: -1 });
        await ex.setLinkedPod(ns, 'u5', 'chat', { podId: 1, persistSeconds: -1 });
        // Claims only: the drift shows.
        expect(await loads(ns)).toEqual({ 1: 2, 2: 1 });
        // The cheap pass only looks at expired temporary links: nothing due.
        const before = await image(ns);
        expect(await ex.reconcilePlacement(ns, SVC)).toEqual({
          checked: 0,
          released: 0,
          confirmed: 0,
          adopted: 0,
        });
        expect(await image(ns)).toEqual(before);
        const countersBefore = counters();
        expect(await ex.reconcilePlacement(ns, SVC, { full: true })).toEqual({
          checked: 3,
          released: 2,
          confirmed: 0,
          adopted: 2,
        });
        // u2 (moved) counts on pod 1 now, u3 on pod 2, u6 stays; u1 and u4 count nowhere.
        expect(await loads(ns)).toEqual({ 1: 2, 2: 1 });
        expect(moved(countersBefore)).toEqual({ 'claimsReleased.reconciled': 2 });
        // The links themselves are untouched.
        expect(await ex.batchGetLinkedPod(ns, ['u1', 'u2', 'u3', 'u4', 'u6'], SVC)).toEqual({
          1: ['u2', 'u6'],
          2: ['u3'],
          99: ['u4'],
        });
        expect(await allocate(ns, 'u3')).toEqual({
          podId: 2,
          created: false,
          load: 1,
          capacity: 5,
        });
        // An adopted link is a claim: its release frees it.
        expect(await ex.release(ns, 'u3', SVC)).toEqual({ released: true, podId: 2 });
        expect(await loads(ns)).toEqual({ 1: 2, 2: 0 });
        // Settled: a second pass finds nothing to do.
        expect(await ex.reconcilePlacement(ns, SVC, { full: true, batch: 1 })).toEqual({
          checked: 2,
          released: 0,
          confirmed: 0,
          adopted: 0,
        });
      });

      test('an adopted link may take a pod over capacity: nothing more is placed there', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 1);
        await allocate(ns, 'u1');
        await ex.setLinkedPod(ns, 'u2', SVC, { podId: 1, persistSeconds: -1 });
        expect(await ex.reconcilePlacement(ns, SVC, { full: true })).toMatchObject({
          released: 0,
          adopted: 1,
        });
        expect(await view(ns)).toEqual({ 1: { load: 2, capacity: 1, status: 'live' } });
        await expectNoCapacity(allocate(ns, 'u3'));
        await ex.release(ns, 'u1', SVC);
        await expectNoCapacity(allocate(ns, 'u3'));
        await ex.release(ns, 'u2', SVC);
        expect((await allocate(ns, 'u3')).podId).toBe(1);
      });
    });

    // ---- keys ------------------------------------------------------------------------------------

    describe('keys', () => {
      test('placement keys are under sf:{<ns>:pl:<svc>} (placementKeys())', async () => {
        const ns = freshNamespace();
        const prefix = placementKeyPrefix(ns, SVC);
        expect(prefix).toBe(`sf:{${ns}:pl:${SVC}}`);
        const keys = placementKeys(ns, SVC);
        for (const [name, key] of Object.entries(keys))
          expect(key.startsWith(prefix), name).toBe(true);
        expect(keys).toMatchObject({
          cap: `${prefix}cap`,
          lease: `${prefix}lease`,
          drain: `${prefix}drain`,
          load: `${prefix}load`,
          claim: `${prefix}claim`,
          exp: `${prefix}exp`,
          pending: `${prefix}pending`,
          uidsPrefix: `${prefix}uids:`,
        });
        await register(ns, [1, 2], 5);
        await ex.drainPod(ns, SVC, 2);
        await allocate(ns, 'u1');
        await allocate(ns, 'u2', { persistSeconds: 300 });
        const raw = await h.raw.snapshot(ns);
        const links = [linkKey(ns, 'u1', SVC), linkIndexKey(ns, 'u1'), linkKey(ns, 'u2', SVC)];
        for (const key of Object.keys(raw)) {
          if (!links.includes(key)) expect(key.startsWith(prefix), key).toBe(true);
        }
        for (const key of links) expect(raw[key], key).toBeDefined();
        const client = h.raw.client;
        if (client) {
          expect(await client.type(keys.cap)).toBe('hash');
          expect(await client.hgetall(keys.cap)).toEqual({ 1: '5', 2: '5' });
          expect(await client.type(keys.lease)).toBe('zset');
          expect((await client.zrange(keys.lease, 0, -1)).sort()).toEqual(['1', '2']);
          expect(await client.smembers(keys.drain)).toEqual(['2']);
          expect(await client.hgetall(keys.load)).toEqual({ 1: '2' });
          expect(await client.hgetall(keys.claim)).toEqual({ u1: '1', u2: '1' });
          expect((await client.smembers(`${keys.uidsPrefix}1`)).sort()).toEqual(['u1', 'u2']);
          expect(await client.zscore(keys.exp, 'u1')).toBeNull();
          expect(Number(await client.zscore(keys.exp, 'u2'))).toBeGreaterThan(0);
          expect(await client.zcard(keys.pending)).toBe(0);
        }
      });

      test('deleteNamespaceKeys removes the placement data with the rest', async () => {
        const ns = freshNamespace();
        const other = freshNamespace();
        const onlyRegistered = freshNamespace();
        for (const n of [ns, other]) {
          await register(n, [1, 2], 5);
          await ex.drainPod(n, SVC, 2);
          await allocate(n, 'u1');
          await allocate(n, 'u2', { persistSeconds: 300 });
        }
        await register(onlyRegistered, [1], 5);
        expect(await ex.hasNamespaceKeys(onlyRegistered)).toBe(true);
        const otherBefore = await image(other);
        expect(await ex.deleteNamespaceKeys(ns)).toBeGreaterThan(0);
        expect(await ex.deleteNamespaceKeys(onlyRegistered)).toBeGreaterThan(0);
        for (const n of [ns, onlyRegistered]) {
          expect(await h.raw.snapshot(n)).toEqual({});
          expect(await ex.hasNamespaceKeys(n)).toBe(false);
          expect(await ex.placement(n, SVC)).toEqual({ pods: {} });
        }
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(-1);
        expect(await image(other)).toEqual(otherBefore);
        // Nothing registered is left: no placement.
        await expectNoCapacity(allocate(ns, 'u3'));
      });
    });

    // ---- telemetry and diagnostics ---------------------------------------------------------------

    describe('telemetry and diagnostics', () => {
      test('executor.telemetry.placement counts allocations by result', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 1);
        const before = counters();
        await allocate(ns, 'u1');
        await allocate(ns, 'u1');
        await expectNoCapacity(allocate(ns, 'u2'));
        expect(moved(before)).toEqual({
          'allocations.created': 1,
          'allocations.existing': 1,
          'allocations.no_capacity': 1,
        });
      });

      test('placement operations are recorded like any other while a consumer is attached', async () => {
        const ns = freshNamespace();
        const telemetry = ex.telemetry;
        const attachment = telemetry.attach();
        try {
          const calls = () =>
            Object.fromEntries(PLACEMENT_OPERATIONS.map((op) => [op, telemetry.record(op).calls]));
          const before = calls();
          const allocateRecord = telemetry.record('allocate');
          const failuresBefore = allocateRecord.failures;
          const capacityBefore = allocateRecord.errors[ERROR_TYPES.indexOf('capacity')]!;
          const validationBefore = allocateRecord.errors[ERROR_TYPES.indexOf('validation')]!;
          await ex.registerPod(ns, SVC, 1, { capacity: 1, ttlSeconds: 60 });
          await ex.drainPod(ns, SVC, 1);
          await ex.undrainPod(ns, SVC, 1);
          await allocate(ns, 'u1');
          await expectNoCapacity(allocate(ns, 'u2'));
          await failure(allocate(ns, 'u{2}'));
          await ex.release(ns, 'u1', SVC);
          await ex.placement(ns, SVC);
          await ex.sweepDeadPods(ns, SVC);
          await ex.reconcilePlacement(ns, SVC);
          const after = calls();
          const grown = Object.fromEntries(
            PLACEMENT_OPERATIONS.map((op) => [op, after[op]! - before[op]!]),
          );
          expect(grown).toEqual({
            registerPod: 1,
            drainPod: 1,
            undrainPod: 1,
            allocate: 3,
            release: 1,
            placement: 1,
            sweepDeadPods: 1,
            reconcilePlacement: 1,
          });
          expect(allocateRecord.failures - failuresBefore).toBe(2);
          expect(allocateRecord.errors[ERROR_TYPES.indexOf('capacity')]! - capacityBefore).toBe(1);
          expect(allocateRecord.errors[ERROR_TYPES.indexOf('validation')]! - validationBefore).toBe(
            1,
          );
          expect(allocateRecord.inFlight).toBe(0);
        } finally {
          attachment.release();
        }
      });

      test('placement operations are published on the operation channel', async () => {
        const ns = freshNamespace();
        await register(ns, [1], 1);
        const seen: {
          operation: string;
          errorCode: string | undefined;
          errorType: string | undefined;
        }[] = [];
        const handlers = {
          start() {},
          end() {},
          asyncStart() {},
          error() {},
          asyncEnd(message: unknown) {
            const m = message as OperationMessage;
            if (m.executor !== ex.name) return;
            seen.push({ operation: m.operation, errorCode: m.errorCode, errorType: m.errorType });
          },
        };
        const channel = diagnostics.tracingChannel(CHANNELS.operation);
        channel.subscribe(handlers);
        try {
          await allocate(ns, 'u1');
          await expectNoCapacity(allocate(ns, 'u2'));
          await ex.release(ns, 'u1', SVC);
          await ex.sweepDeadPods(ns, SVC);
        } finally {
          channel.unsubscribe(handlers);
        }
        expect(seen).toEqual([
          { operation: 'allocate', errorCode: undefined, errorType: undefined },
          { operation: 'allocate', errorCode: 'SR_NO_CAPACITY', errorType: 'capacity' },
          { operation: 'release', errorCode: undefined, errorType: undefined },
          { operation: 'sweepDeadPods', errorCode: undefined, errorType: undefined },
        ]);
      });
    });

    // ---- calls in flight together -------------------------------------------------------------------

    describe('allocations in flight together on one executor', () => {
      test('distinct uids: linked = total capacity, the rest refused, no pod over capacity', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2, 3, 4], 5);
        const uids = Array.from({ length: 40 }, (_, i) => `user-${i}`);
        const results = await Promise.allSettled(
          uids.map((uid, i) => allocate(ns, uid, { strategy: i % 2 ? 'packed' : 'least-loaded' })),
        );
        const placed = new Map<string, number>();
        results.forEach((result, i) => {
          if (result.status === 'fulfilled') {
            expect(result.value.created).toBe(true);
            placed.set(uids[i]!, result.value.podId);
          } else {
            expect(result.reason).toBeInstanceOf(NoCapacityError);
          }
        });
        expect(placed.size).toBe(20);
        expect(await loads(ns)).toEqual({ 1: 5, 2: 5, 3: 5, 4: 5 });
        const grouped = await ex.batchGetLinkedPod(ns, uids, SVC);
        const expected: Record<number, string[]> = {};
        for (const uid of uids) {
          const pod = placed.get(uid);
          if (pod !== undefined) (expected[pod] ??= []).push(uid);
        }
        expect(grouped).toEqual(expected);
      });

      test('one uid allocated ten times at once: one pod, one claim', async () => {
        const ns = freshNamespace();
        await register(ns, [1, 2, 3], 5);
        const results = await Promise.all(Array.from({ length: 10 }, () => allocate(ns, 'u1')));
        const pods = new Set(results.map((r) => r.podId));
        expect(pods.size).toBe(1);
        const [pod] = [...pods];
        expect(results.some((r) => r.created)).toBe(true);
        expect(await ex.getLinkedPod(ns, 'u1', SVC)).toBe(pod);
        const now = await loads(ns);
        expect(Object.values(now).reduce((a, b) => a + b, 0)).toBe(1);
        expect(now[String(pod)]).toBe(1);
      });
    });

    // ---- time passing: dead pods and expired temporary links ------------------------------------

    describe('after 1 s leases and 1 s temporary links ran out (one shared wait)', () => {
      // The namespaces of the scenarios, set up together before the one wait.
      const ns: Record<string, string> = {};

      async function setUpDead(n: string): Promise<void> {
        // Pods 1 and 3 die (3 drained as well), pod 2 lives.
        await ex.registerPod(n, SVC, 1, { capacity: 10, ttlSeconds: 1 });
        await ex.registerPod(n, SVC, 2, { capacity: 10, ttlSeconds: 60 });
        await ex.registerPod(n, SVC, 3, { capacity: 10, ttlSeconds: 1 });
        await ex.drainPod(n, SVC, 3);
        expect((await allocate(n, 'a1')).podId).toBe(1);
        expect((await allocate(n, 'a2')).podId).toBe(2);
      }

      async function setUpOnly(n: string): Promise<void> {
        await ex.registerPod(n, SVC, 1, { capacity: 5, ttlSeconds: 1 });
        expect((await allocate(n, 'b1')).podId).toBe(1);
      }

      async function setUpSweep(n: string): Promise<void> {
        // Pod 1 (dies) holds s1 (permanent, also linked to `chat`), s2 (temporary), s3
        // (moved to pod 2 after the wait); pod 5 (dies) holds s4; pod 4 (dies) holds nothing;
        // pod 2 lives. s5 is linked to pod 1 by another writer.
        await ex.registerPod(n, SVC, 1, { capacity: 10, ttlSeconds: 1 });
        await ex.registerPod(n, SVC, 2, { capacity: 10, ttlSeconds: 60 });
        await ex.drainPod(n, SVC, 2);
        await ex.setLinkedPod(n, 's1', 'chat', { podId: 9, persistSeconds: -1 });
        expect((await allocate(n, 's1', { strategy: 'packed' })).podId).toBe(1);
        expect((await allocate(n, 's2', { persistSeconds: 300 })).podId).toBe(1);
        expect((await allocate(n, 's3')).podId).toBe(1);
        await ex.drainPod(n, SVC, 1);
        await ex.registerPod(n, SVC, 5, { capacity: 10, ttlSeconds: 1 });
        expect((await allocate(n, 's4')).podId).toBe(5);
        await ex.undrainPod(n, SVC, 1);
        await ex.undrainPod(n, SVC, 2);
        await ex.registerPod(n, SVC, 4, { capacity: 10, ttlSeconds: 1 });
        await ex.setLinkedPod(n, 's5', SVC, { podId: 1, persistSeconds: -1 });
      }

      async function setUpExpired(n: string): Promise<void> {
        // e1 and e3 are temporary (1 s); e3 is made permanent by another writer before it
        // expires; e2 is permanent.
        await ex.registerPod(n, SVC, 1, { capacity: 5, ttlSeconds: 60 });
        await allocate(n, 'e1', { persistSeconds: 1 });
        await allocate(n, 'e2');
        await allocate(n, 'e3', { persistSeconds: 1 });
        await ex.setLinkedPod(n, 'e3', SVC, { podId: 1, persistSeconds: -1 });
      }

      async function setUpFull(n: string): Promise<void> {
        await ex.registerPod(n, SVC, 1, { capacity: 2, ttlSeconds: 60 });
        await allocate(n, 'f1', { persistSeconds: 1 });
        await allocate(n, 'f2');
      }

      async function setUpAgain(n: string): Promise<void> {
        await register(n, [1, 2], 5);
        expect((await allocate(n, 'g1', { persistSeconds: 1 })).podId).toBe(1);
      }

      beforeAll(async () => {
        const setUps = {
          dead: setUpDead,
          only: setUpOnly,
          sweep: setUpSweep,
          expired: setUpExpired,
          full: setUpFull,
          again: setUpAgain,
        };
        for (const name of Object.keys(setUps)) ns[name] = freshNamespace();
        await Promise.all(Object.entries(setUps).map(([name, setUp]) => setUp(ns[name]!)));
        await h.elapse(1.1);
      });

      test('a dead pod shows dead (also when draining), with a negative lease', async () => {
        const { pods } = await ex.placement(ns.dead!, SVC);
        expect(pods['1']).toMatchObject({ load: 1, capacity: 10, status: 'dead' });
        expect(pods['1']!.leaseMs).toBeLessThan(0);
        expect(pods['3']).toMatchObject({ load: 0, capacity: 10, status: 'dead' });
        expect(pods['3']!.leaseMs).toBeLessThan(0);
        expect(pods['2']).toMatchObject({ load: 1, capacity: 10, status: 'live' });
        expect(pods['2']!.leaseMs).toBeGreaterThan(0);
      });

      test('a dead pod gets no placement; a uid linked to it still gets its link back', async () => {
        const n = ns.dead!;
        for (const [i, strategy] of (
          ['least-loaded', 'packed', 'least-loaded'] as const
        ).entries()) {
          expect((await allocate(n, `new${i}`, { strategy })).podId).toBe(2);
        }
        expect(await allocate(n, 'a1')).toEqual({
          podId: 1,
          created: false,
          load: 1,
          capacity: 10,
        });
        expect(await ex.getLinkedPod(n, 'a1', SVC)).toBe(1);
      });

      test('only dead pods: SR_NO_CAPACITY, nothing written; a heartbeat brings the pod back', async () => {
        const n = ns.only!;
        const before = await image(n);
        await expectNoCapacity(allocate(n, 'b2'));
        expect(await image(n)).toEqual(before);
        await ex.registerPod(n, SVC, 1, { capacity: 5, ttlSeconds: 60 });
        expect((await view(n))['1']).toEqual({ load: 1, capacity: 5, status: 'live' });
        expect(await allocate(n, 'b2')).toEqual({ podId: 1, created: true, load: 2, capacity: 5 });
      });

      test('sweepDeadPods removes the links and claims of dead pods, keeps moved links, unregisters them', async () => {
        const n = ns.sweep!;
        expect(await view(n)).toEqual({
          1: { load: 3, capacity: 10, status: 'dead' },
          2: { load: 0, capacity: 10, status: 'live' },
          4: { load: 0, capacity: 10, status: 'dead' },
          5: { load: 1, capacity: 10, status: 'dead' },
        });
        // The full reconcile adopts s5 (a link to a registered pod, dead or not), so that the
        // sweep finds it.
        expect(await ex.reconcilePlacement(n, SVC, { full: true })).toMatchObject({
          released: 0,
          adopted: 1,
        });
        // s3 moves to pod 2 before the sweep: its link must be kept.
        expect(await ex.setLinkedPod(n, 's3', SVC, { podId: 2, persistSeconds: -1 })).toBe(1);
        const before = counters();
        expect(await ex.sweepDeadPods(n, SVC, { batch: 1 })).toEqual({ swept: 4, released: 5 });
        expect(moved(before)).toEqual({
          sweeps: 1,
          linksSwept: 4,
          'claimsReleased.swept': 5,
        });
        expect(await ex.batchGetLinkedPod(n, ['s1', 's2', 's3', 's4', 's5'], SVC)).toEqual({
          2: ['s3'],
        });
        expect(await ex.getLinkService(n, 's1')).toEqual({ chat: 9 });
        expect(await ex.getLinkService(n, 's3')).toEqual({ [SVC]: 2 });
        expect(await ex.getLinkService(n, 's5')).toEqual({});
        const raw = await h.raw.snapshot(n);
        for (const uid of ['s1', 's2', 's4', 's5']) {
          expect(raw[linkKey(n, uid, SVC)], uid).toBeUndefined();
        }
        // The dead pods are gone; the moved link is not a claim until a full reconcile.
        expect(await view(n)).toEqual({ 2: { load: 0, capacity: 10, status: 'live' } });
        const after = counters();
        expect(await ex.sweepDeadPods(n, SVC)).toEqual({ swept: 0, released: 0 });
        expect(moved(after)).toEqual({ sweeps: 1 });
        expect(await allocate(n, 's6')).toMatchObject({ podId: 2, created: true });
      });

      test('reconcile releases the claim of an expired temporary link, keeps one made permanent', async () => {
        const n = ns.expired!;
        expect(await ex.getLinkedPod(n, 'e1', SVC)).toBe(-1);
        expect(await ex.getLinkedPod(n, 'e3', SVC)).toBe(1);
        // Until a reconcile, the claim of e1 is still counted.
        expect(await loads(n)).toEqual({ 1: 3 });
        const before = counters();
        expect(await ex.reconcilePlacement(n, SVC)).toEqual({
          checked: 2,
          released: 1,
          confirmed: 0,
          adopted: 0,
        });
        expect(moved(before)).toEqual({ 'claimsReleased.expired': 1 });
        expect(await loads(n)).toEqual({ 1: 2 });
        expect(await ex.reconcilePlacement(n, SVC)).toEqual({
          checked: 0,
          released: 0,
          confirmed: 0,
          adopted: 0,
        });
        expect(await ex.release(n, 'e3', SVC)).toEqual({ released: true, podId: 1 });
        expect(await loads(n)).toEqual({ 1: 1 });
      });

      test('an allocate that would find no capacity first frees the claims of expired links', async () => {
        const n = ns.full!;
        expect(await loads(n)).toEqual({ 1: 2 });
        const before = counters();
        expect(await allocate(n, 'f3')).toEqual({ podId: 1, created: true, load: 2, capacity: 2 });
        expect(moved(before)).toEqual({
          'allocations.created': 1,
          'claimsReleased.expired': 1,
        });
        expect(await ex.getLinkedPod(n, 'f1', SVC)).toBe(-1);
        await expectNoCapacity(allocate(n, 'f4'));
        expect(await loads(n)).toEqual({ 1: 2 });
      });

      test('a uid whose temporary link expired is placed again with one claim, not two', async () => {
        const n = ns.again!;
        expect(await ex.getLinkedPod(n, 'g1', SVC)).toBe(-1);
        const result = await allocate(n, 'g1');
        expect(result.created).toBe(true);
        expect(result.load).toBe(1);
        const now = await loads(n);
        expect(Object.values(now).reduce((a, b) => a + b, 0)).toBe(1);
        expect(now[String(result.podId)]).toBe(1);
        expect(await ex.getLinkedPod(n, 'g1', SVC)).toBe(result.podId);
        await ex.release(n, 'g1', SVC);
        expect(await loads(n)).toEqual({ 1: 0, 2: 0 });
      });
    });
  });
}
