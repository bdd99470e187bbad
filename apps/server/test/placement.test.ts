/**
 * Placement over HTTP (issue 17), on the memory backend and on a real Redis: every route with
 * its exact reply, 409 SR_NO_CAPACITY, bad input refused with 400 and nothing written, 405
 * with Allow, 401 without the token; the periodic sweeper (links of a dead pod gone within
 * lease + 5 s with it on, kept with it off), its discovery, its non-overlapping runs and its
 * once-per-streak logging; and the bin refusing a malformed `--placement-sweep-ms`.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createMemoryExecutor,
  createRedisExecutor,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import type { FastifyBaseLogger, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { loadConfig } from '../src/index.js';
import { PlacementSweeper, SWEEPER_FAILURES_METRIC } from '../src/placement-sweeper.js';
import { MAIN, ROOT } from './helpers/built-server.js';
import { startHarness, type BackendName, type ServerHarness } from './helpers/harness.js';

const TOKEN = 'placement-test-token-1';
const enc = encodeURIComponent;

interface Client {
  call(options: InjectOptions): Promise<LightMyRequestResponse>;
  svc(svc: string): string;
  linkOf(uid: string, svc: string): Promise<number>;
}

function client(h: ServerHarness, token: string | null): Client {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const call = (options: InjectOptions) =>
    h.app.inject({ ...options, headers: { ...headers, ...options.headers } });
  return {
    call,
    svc: (svc) => `/v1/namespaces/${enc(h.ns)}/services/${enc(svc)}`,
    async linkOf(uid, svc) {
      const reply = await call({
        method: 'GET',
        url: `/v1/namespaces/${enc(h.ns)}/users/${enc(uid)}/links/${enc(svc)}`,
      });
      expect(reply.statusCode, reply.body).toBe(200);
      return reply.json<{ podId: number }>().podId;
    },
  };
}

function placementSuite(backend: BackendName): void {
  describe(`placement routes on ${backend}`, () => {
    let h: ServerHarness;
    let c: Client;
    const register = (svc: string, podId: number | string, body: unknown) =>
      c.call({
        method: 'PUT',
        url: `${c.svc(svc)}/pods/${podId}/registration`,
        payload: body as object,
      });
    const allocate = (svc: string, body: unknown) =>
      c.call({ method: 'POST', url: `${c.svc(svc)}/allocations`, payload: body as object });
    const placement = async (svc: string) => {
      const reply = await c.call({ method: 'GET', url: `${c.svc(svc)}/placement` });
      expect(reply.statusCode, reply.body).toBe(200);
      return reply.json<{
        pods: Record<string, { load: number; capacity: number; status: string; leaseMs: number }>;
      }>();
    };
    const loads = async (svc: string) =>
      Object.fromEntries(
        Object.entries((await placement(svc)).pods).map(([pod, p]) => [
          pod,
          `${p.load}/${p.capacity} ${p.status}`,
        ]),
      );

    beforeAll(async () => {
      // The sweeper is off here: these tests sweep through the route.
      h = await startHarness(backend, { token: TOKEN, placementSweepMs: 0 });
      c = client(h, TOKEN);
    });
    afterAll(async () => {
      await h.close();
    });

    test('register, allocate (created, existing), placement, release', async () => {
      let r = await register('room', 1, { capacity: 2, ttlSeconds: 60 });
      expect(r.statusCode, r.body).toBe(204);
      expect(r.body).toBe('');
      r = await register('room', 2, { capacity: 2, ttlSeconds: 60 });
      expect(r.statusCode).toBe(204);

      const view = await placement('room');
      expect(Object.keys(view.pods).sort()).toEqual(['1', '2']);
      for (const pod of Object.values(view.pods)) {
        expect(pod).toMatchObject({ load: 0, capacity: 2, status: 'live' });
        expect(pod.leaseMs).toBeGreaterThan(50_000);
        expect(pod.leaseMs).toBeLessThanOrEqual(60_000);
      }

      r = await allocate('room', { uid: 'u1', persistSeconds: -1 });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ podId: 1, created: true, load: 1, capacity: 2 });
      // least-loaded (the default) spreads: the next user goes to the other pod.
      r = await allocate('room', { uid: 'u2', persistSeconds: 300 });
      expect(r.json()).toEqual({ podId: 2, created: true, load: 1, capacity: 2 });
      // The same user again: its link, nothing changed.
      r = await allocate('room', { uid: 'u1', persistSeconds: 300, strategy: 'packed' });
      expect(r.json()).toEqual({ podId: 1, created: false, load: 1, capacity: 2 });
      // The link is an ordinary contract link.
      expect(await c.linkOf('u1', 'room')).toBe(1);
      expect(await c.linkOf('u2', 'room')).toBe(2);
      expect(await loads('room')).toEqual({ '1': '1/2 live', '2': '1/2 live' });

      r = await c.call({ method: 'DELETE', url: `${c.svc('room')}/allocations/u1` });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ released: true, podId: 1 });
      expect(await c.linkOf('u1', 'room')).toBe(-1);
      expect(await loads('room')).toEqual({ '1': '0/2 live', '2': '1/2 live' });
      r = await c.call({ method: 'DELETE', url: `${c.svc('room')}/allocations/u1` });
      expect(r.json()).toEqual({ released: false, podId: -1 });

      // Ids with URL-significant characters travel percent-encoded.
      r = await allocate('room', { uid: 'a/b?c %', persistSeconds: -1 });
      expect(r.json()).toMatchObject({ created: true });
      expect(await c.linkOf('a/b?c %', 'room')).toBe(r.json<{ podId: number }>().podId);
      r = await c.call({ method: 'DELETE', url: `${c.svc('room')}/allocations/${enc('a/b?c %')}` });
      expect(r.json()).toMatchObject({ released: true });
      expect(await placement('none')).toEqual({ pods: {} });
    });

    test('packed fills one pod first; no room anywhere: 409 SR_NO_CAPACITY, nothing written', async () => {
      await register('pack', 5, { capacity: 2, ttlSeconds: 60 });
      await register('pack', 6, { capacity: 2, ttlSeconds: 60 });
      const placed: number[] = [];
      for (const uid of ['p1', 'p2', 'p3', 'p4']) {
        const r = await allocate('pack', { uid, persistSeconds: -1, strategy: 'packed' });
        expect(r.statusCode, r.body).toBe(200);
        placed.push(r.json<{ podId: number }>().podId);
      }
      expect(placed).toEqual([5, 5, 6, 6]);
      const before = await loads('pack');
      expect(before).toEqual({ '5': '2/2 live', '6': '2/2 live' });
      const links = await h.snapshot(`${h.ns}:lk:`);

      const full = await allocate('pack', { uid: 'p5', persistSeconds: -1 });
      expect(full.statusCode).toBe(409);
      const body = full.json<{ error: { code: string; message: string; field?: string } }>();
      expect(body.error.code).toBe('SR_NO_CAPACITY');
      expect(body.error.message).toMatch(/\S/);
      expect(body.error.field).toBeUndefined();
      expect(await c.linkOf('p5', 'pack')).toBe(-1);
      expect(await loads('pack')).toEqual(before);
      expect(await h.snapshot(`${h.ns}:lk:`)).toEqual(links);
      // A service with no pod at all is no capacity too.
      expect((await allocate('empty', { uid: 'p1', persistSeconds: -1 })).statusCode).toBe(409);
      // Capacity 0: registered, never placed on.
      await register('zero', 1, { capacity: 0, ttlSeconds: 60 });
      expect((await allocate('zero', { uid: 'z', persistSeconds: -1 })).statusCode).toBe(409);
    });

    test('drain: no new placements, existing links resolve; undrain places again', async () => {
      await register('drain', 1, { capacity: 10, ttlSeconds: 60 });
      await register('drain', 2, { capacity: 10, ttlSeconds: 60 });
      expect((await allocate('drain', { uid: 'd0', persistSeconds: -1 })).json()).toMatchObject({
        podId: 1,
      });
      let r = await c.call({ method: 'POST', url: `${c.svc('drain')}/pods/1/drain` });
      expect(r.statusCode, r.body).toBe(204);
      expect(r.body).toBe('');
      expect(await loads('drain')).toEqual({ '1': '1/10 draining', '2': '0/10 live' });
      for (const uid of ['d1', 'd2', 'd3']) {
        expect((await allocate('drain', { uid, persistSeconds: -1 })).json()).toMatchObject({
          podId: 2,
          created: true,
        });
      }
      expect(await c.linkOf('d0', 'drain')).toBe(1);
      // A heartbeat keeps the drain.
      await register('drain', 1, { capacity: 10, ttlSeconds: 60 });
      expect((await placement('drain')).pods['1']!.status).toBe('draining');
      r = await c.call({ method: 'DELETE', url: `${c.svc('drain')}/pods/1/drain` });
      expect(r.statusCode, r.body).toBe(204);
      expect((await allocate('drain', { uid: 'd4', persistSeconds: -1 })).json()).toMatchObject({
        podId: 1,
      });
      expect(await loads('drain')).toEqual({ '1': '2/10 live', '2': '3/10 live' });
    });

    test('sweep and reconcile routes: a dead pod loses its links, a moved link is kept', async () => {
      await register('dead', 1, { capacity: 5, ttlSeconds: 1 });
      for (const uid of ['s1', 's2', 's3']) {
        expect((await allocate('dead', { uid, persistSeconds: -1 })).statusCode).toBe(200);
      }
      // Another writer moves s3 meanwhile: compare-and-delete keeps it.
      await c.call({
        method: 'PUT',
        url: `/v1/namespaces/${enc(h.ns)}/users/s3/links/dead`,
        payload: { podId: 9, persistSeconds: -1, mode: 'set' },
      });
      let r = await c.call({ method: 'POST', url: `${c.svc('dead')}/sweep` });
      expect(r.json()).toEqual({ swept: 0, released: 0 });
      await sleep(1300);
      expect((await placement('dead')).pods['1']).toMatchObject({ status: 'dead', load: 3 });
      // A dead pod gets no placement.
      expect((await allocate('dead', { uid: 's4', persistSeconds: -1 })).statusCode).toBe(409);
      r = await c.call({ method: 'POST', url: `${c.svc('dead')}/sweep`, payload: { batch: 2 } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ swept: 2, released: 3 });
      expect(await c.linkOf('s1', 'dead')).toBe(-1);
      expect(await c.linkOf('s2', 'dead')).toBe(-1);
      expect(await c.linkOf('s3', 'dead')).toBe(9);
      // With nothing left on it, the dead pod is unregistered.
      expect(await placement('dead')).toEqual({ pods: {} });

      r = await c.call({ method: 'POST', url: `${c.svc('room')}/reconcile` });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ checked: 0, released: 0, confirmed: 0, adopted: 0 });
      // A link of another writer to a registered pod: adopted by the full pass.
      await register('adopt', 3, { capacity: 5, ttlSeconds: 60 });
      await c.call({
        method: 'PUT',
        url: `/v1/namespaces/${enc(h.ns)}/users/x1/links/adopt`,
        payload: { podId: 3, persistSeconds: -1, mode: 'set' },
      });
      r = await c.call({
        method: 'POST',
        url: `${c.svc('adopt')}/reconcile`,
        payload: { full: true, batch: 10 },
      });
      expect(r.json()).toMatchObject({ adopted: 1 });
      expect(await loads('adopt')).toEqual({ '3': '1/5 live' });
    });

    describe('bad input: 400 SR_VALIDATION naming the field, nothing written', () => {
      const good = { capacity: 2, ttlSeconds: 60 };
      const goodAllocation = { uid: 'u9', persistSeconds: -1 };
      const cases: { name: string; request: () => InjectOptions; field: string }[] = [
        ['registration: capacity missing', { ttlSeconds: 60 }, 'capacity'],
        ['registration: capacity -1', { ...good, capacity: -1 }, 'capacity'],
        ['registration: capacity 2^31', { ...good, capacity: 2 ** 31 }, 'capacity'],
        ['registration: capacity 1.5', { ...good, capacity: 1.5 }, 'capacity'],
        ['registration: capacity "2"', { ...good, capacity: '2' }, 'capacity'],
        ['registration: ttlSeconds 0', { ...good, ttlSeconds: 0 }, 'ttlSeconds'],
        ['registration: ttlSeconds missing', { capacity: 2 }, 'ttlSeconds'],
        ['registration: unknown property', { ...good, weight: 1 }, 'weight'],
      ]
        .map(([name, payload, field]) => ({
          name: name as string,
          field: field as string,
          request: (): InjectOptions => ({
            method: 'PUT',
            url: `${c.svc('guard')}/pods/1/registration`,
            payload: payload as object,
          }),
        }))
        .concat([
          {
            name: 'registration: pod id not an integer',
            field: 'podId',
            request: () => ({
              method: 'PUT',
              url: `${c.svc('guard')}/pods/01/registration`,
              payload: good,
            }),
          },
          {
            name: 'registration: pod id negative',
            field: 'podId',
            request: () => ({
              method: 'PUT',
              url: `${c.svc('guard')}/pods/-1/registration`,
              payload: good,
            }),
          },
          {
            name: 'registration: namespace with a colon',
            field: 'namespace',
            request: () => ({
              method: 'PUT',
              url: `/v1/namespaces/a%3Ab/services/guard/pods/1/registration`,
              payload: good,
            }),
          },
          {
            name: 'registration: no body',
            field: 'body',
            request: () => ({ method: 'PUT', url: `${c.svc('guard')}/pods/1/registration` }),
          },
          {
            name: 'drain: service with a brace',
            field: 'service',
            request: () => ({
              method: 'POST',
              url: `/v1/namespaces/${enc(h.ns)}/services/a%7Db/pods/1/drain`,
            }),
          },
          {
            name: 'undrain: pod id 1e3',
            field: 'podId',
            request: () => ({ method: 'DELETE', url: `${c.svc('guard')}/pods/1e3/drain` }),
          },
          {
            name: 'allocate: uid missing',
            field: 'uid',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/allocations`,
              payload: { persistSeconds: -1 },
            }),
          },
          {
            name: 'allocate: blank uid',
            field: 'uid',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/allocations`,
              payload: { uid: ' ', persistSeconds: -1 },
            }),
          },
          {
            name: 'allocate: persistSeconds 0',
            field: 'persistSeconds',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/allocations`,
              payload: { ...goodAllocation, persistSeconds: 0 },
            }),
          },
          {
            name: 'allocate: persistSeconds missing',
            field: 'persistSeconds',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/allocations`,
              payload: { uid: 'u9' },
            }),
          },
          {
            name: 'allocate: unknown strategy',
            field: 'strategy',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/allocations`,
              payload: { ...goodAllocation, strategy: 'random' },
            }),
          },
          {
            name: 'allocate: unknown property',
            field: 'podId',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/allocations`,
              payload: { ...goodAllocation, podId: 1 },
            }),
          },
          {
            name: 'release: uid with a brace',
            field: 'uid',
            request: () => ({ method: 'DELETE', url: `${c.svc('guard')}/allocations/a%7Bb` }),
          },
          {
            name: 'sweep: batch 0',
            field: 'batch',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/sweep`,
              payload: { batch: 0 },
            }),
          },
          {
            name: 'sweep: batch 201',
            field: 'batch',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/sweep`,
              payload: { batch: 201 },
            }),
          },
          {
            name: 'sweep: full is not a sweep option',
            field: 'full',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/sweep`,
              payload: { full: true },
            }),
          },
          {
            name: 'reconcile: full "yes"',
            field: 'full',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/reconcile`,
              payload: { full: 'yes' },
            }),
          },
          {
            name: 'reconcile: body an array',
            field: 'body',
            request: () => ({
              method: 'POST',
              url: `${c.svc('guard')}/reconcile`,
              payload: [] as unknown as object,
            }),
          },
        ]);

      let before: unknown;
      beforeAll(async () => {
        await register('guard', 1, { capacity: 1, ttlSeconds: 600 });
        expect((await allocate('guard', { uid: 'g1', persistSeconds: -1 })).statusCode).toBe(200);
        before = [await placement('guard'), await h.snapshot(`${h.ns}:lk:`)];
      });

      test.each(cases)('$name -> $field', async ({ request, field }) => {
        const reply = await c.call(request());
        expect(reply.statusCode, reply.body).toBe(400);
        const body = reply.json<{ error: { code: string; message: string; field?: string } }>();
        expect(body.error.code).toBe('SR_VALIDATION');
        expect(body.error.field).toBe(field);
        expect(body.error.message).toMatch(new RegExp(`^${field}: `));
        expect(reply.body).not.toMatch(/\n\s+at /);
        const now = [await placement('guard'), await h.snapshot(`${h.ns}:lk:`)] as const;
        // The lease counts down; everything else is unchanged.
        const strip = (p: unknown) =>
          JSON.parse(JSON.stringify(p), (k, v: unknown) => (k === 'leaseMs' ? 0 : v)) as unknown;
        expect(strip(now)).toEqual(strip(before));
      });
    });

    test('a known path with another method: 405 with Allow', async () => {
      const cases: [string, string, string][] = [
        ['GET', `${c.svc('room')}/pods/1/registration`, 'PUT'],
        ['POST', `${c.svc('room')}/pods/1/registration`, 'PUT'],
        ['GET', `${c.svc('room')}/pods/1/drain`, 'DELETE, POST'],
        ['PUT', `${c.svc('room')}/pods/1/drain`, 'DELETE, POST'],
        ['GET', `${c.svc('room')}/allocations`, 'POST'],
        ['PUT', `${c.svc('room')}/allocations/u1`, 'DELETE'],
        ['POST', `${c.svc('room')}/placement`, 'GET, HEAD'],
        ['GET', `${c.svc('room')}/sweep`, 'POST'],
        ['DELETE', `${c.svc('room')}/reconcile`, 'POST'],
      ];
      for (const [method, url, allow] of cases) {
        const reply = await c.call({ method: method as 'GET', url });
        expect(reply.statusCode, `${method} ${url}`).toBe(405);
        expect(reply.headers.allow, `${method} ${url}`).toBe(allow);
        expect(reply.json()).toMatchObject({ error: { code: 'SR_METHOD_NOT_ALLOWED' } });
      }
    });

    test('no token: 401 on every placement route, nothing written', async () => {
      const before = [await placement('room'), await h.snapshot(`${h.ns}:lk:`)];
      const open = client(h, null);
      const routes: InjectOptions[] = [
        {
          method: 'PUT',
          url: `${c.svc('room')}/pods/1/registration`,
          payload: { capacity: 9, ttlSeconds: 9 },
        },
        { method: 'POST', url: `${c.svc('room')}/pods/1/drain` },
        { method: 'DELETE', url: `${c.svc('room')}/pods/1/drain` },
        {
          method: 'POST',
          url: `${c.svc('room')}/allocations`,
          payload: { uid: 'n1', persistSeconds: -1 },
        },
        { method: 'DELETE', url: `${c.svc('room')}/allocations/u2` },
        { method: 'GET', url: `${c.svc('room')}/placement` },
        { method: 'POST', url: `${c.svc('room')}/sweep` },
        { method: 'POST', url: `${c.svc('room')}/reconcile`, payload: { full: true } },
      ];
      for (const route of routes) {
        const reply = await open.call(route);
        expect(reply.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(reply.json()).toMatchObject({ error: { code: 'SR_UNAUTHORIZED' } });
      }
      const strip = (p: unknown) =>
        JSON.parse(JSON.stringify(p), (k, v: unknown) => (k === 'leaseMs' ? 0 : v)) as unknown;
      expect(strip([await placement('room'), await h.snapshot(`${h.ns}:lk:`)])).toEqual(
        strip(before),
      );
    });
  });

  describe(`the placement sweeper on ${backend}`, () => {
    // Registers a pod with a 1 s lease and places three users on it; returns when the lease
    // ends (server clock: the placement view's leaseMs).
    async function deadPodWithLinks(c: Client, svc: string): Promise<number> {
      const registered = await c.call({
        method: 'PUT',
        url: `${c.svc(svc)}/pods/4/registration`,
        payload: { capacity: 10, ttlSeconds: 1 },
      });
      expect(registered.statusCode, registered.body).toBe(204);
      const leaseEnd = Date.now() + 1000;
      for (const uid of ['w1', 'w2', 'w3']) {
        const r = await c.call({
          method: 'POST',
          url: `${c.svc(svc)}/allocations`,
          payload: { uid, persistSeconds: -1 },
        });
        expect(r.json()).toMatchObject({ podId: 4, created: true });
      }
      return leaseEnd;
    }

    test('on (200 ms): the links of a dead pod are gone within lease + 5 s', async () => {
      const h = await startHarness(backend, { placementSweepMs: 200 });
      try {
        const c = client(h, null);
        const leaseEnd = await deadPodWithLinks(c, 'swept');
        // Alive while the lease runs.
        expect(await c.linkOf('w1', 'swept')).toBe(4);
        const deadline = leaseEnd + 5000;
        let left: number[] = [];
        for (;;) {
          left = [];
          for (const uid of ['w1', 'w2', 'w3']) left.push(await c.linkOf(uid, 'swept'));
          if (left.every((pod) => pod === -1) || Date.now() > deadline) break;
          await sleep(100);
        }
        expect(left).toEqual([-1, -1, -1]);
        const view = await c.call({ method: 'GET', url: `${c.svc('swept')}/placement` });
        expect(view.json()).toEqual({ pods: {} });
      } finally {
        await h.close();
      }
    }, 20_000);

    test('off (0): the links of a dead pod stay until someone sweeps', async () => {
      const h = await startHarness(backend, { placementSweepMs: 0 });
      try {
        const c = client(h, null);
        const leaseEnd = await deadPodWithLinks(c, 'kept');
        // Well past the lease: a sweeper on a 200 ms interval would have swept many times.
        await sleep(Math.max(0, leaseEnd - Date.now()) + 2000);
        for (const uid of ['w1', 'w2', 'w3']) expect(await c.linkOf(uid, 'kept')).toBe(4);
        const view = await c.call({ method: 'GET', url: `${c.svc('kept')}/placement` });
        expect(view.json()).toMatchObject({ pods: { '4': { load: 3, status: 'dead' } } });
      } finally {
        await h.close();
      }
    }, 20_000);
  });
}

placementSuite('memory');
placementSuite('redis');

// A logger that keeps its lines.
function recordingLog(): { log: FastifyBaseLogger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (a: unknown, b?: unknown): void => {
      lines.push({ level, msg: String(typeof a === 'string' ? a : b) });
    };
  const log = {
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
  } as unknown as FastifyBaseLogger;
  return { log, lines };
}

async function counterValue(registry: Registry): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === SWEEPER_FAILURES_METRIC,
  );
  return metric?.values[0]?.value ?? Number.NaN;
}

describe('PlacementSweeper', () => {
  test('runs never overlap: a tick during a run is skipped', async () => {
    const executor = createMemoryExecutor();
    let calls = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const slow = new Proxy(executor, {
      get(target, name, receiver) {
        if (name === 'sweepDeadPods') {
          return async () => {
            calls += 1;
            await gate;
            return { swept: 0, released: 0 };
          };
        }
        const value = Reflect.get(target, name, receiver) as unknown;
        // The executor's methods use private fields: call them on the executor itself.
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    }) as StatefulExecutor;
    const { log } = recordingLog();
    const sweeper = new PlacementSweeper({
      executor: slow,
      redis: null,
      intervalMs: 10,
      log,
      registry: new Registry(),
    });
    sweeper.track('ns', 'svc');
    sweeper.start();
    await sleep(200); // about 20 ticks while the first run waits
    expect(calls).toBe(1);
    finish();
    await sleep(100);
    expect(calls).toBeGreaterThan(1);
    await sweeper.close();
    await executor.close();
  });

  test('a failure is logged once per streak, counted every time, and the recovery logged', async () => {
    const executor = createMemoryExecutor();
    let failing = true;
    const flaky = new Proxy(executor, {
      get(target, name, receiver) {
        if (name === 'sweepDeadPods' && failing) {
          return () => Promise.reject(Object.assign(new Error('Redis is down'), { code: 'X' }));
        }
        const value = Reflect.get(target, name, receiver) as unknown;
        // The executor's methods use private fields: call them on the executor itself.
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    }) as StatefulExecutor;
    const { log, lines } = recordingLog();
    const registry = new Registry();
    const sweeper = new PlacementSweeper({
      executor: flaky,
      redis: null,
      intervalMs: 60_000,
      log,
      registry,
    });
    sweeper.track('ns', 'a');
    sweeper.track('ns', 'b');
    for (let i = 0; i < 3; i++) expect((await sweeper.run()).failures).toBe(2);
    expect(await counterValue(registry)).toBe(6);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(lines[0]!.msg).toContain('Redis is down');
    failing = false;
    expect(await sweeper.run()).toMatchObject({ failures: 0, services: 2 });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(lines[1]!.msg).toContain('after 6 failed call(s)');
    failing = true;
    await sweeper.run();
    await sweeper.run();
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info', 'warn']);
    await sweeper.close();
    await executor.close();
  });

  for (const topology of ['standalone', 'cluster'] as const) {
    test(`on Redis ${topology}, a SCAN of every master finds services whose pods registered elsewhere, and sweeps them`, async () => {
      const connect = () =>
        topology === 'standalone'
          ? new Redis(inject('redisUrl'))
          : new Cluster(inject('clusterSeeds'));
      const ns = uniqueNamespace('sweeper');
      const other = createRedisExecutor({ redis: connect(), closeClients: true });
      const scanClient = connect();
      const executor = createRedisExecutor({ redis: connect(), closeClients: true });
      const { log } = recordingLog();
      const sweeper = new PlacementSweeper({
        executor,
        redis: scanClient,
        intervalMs: 60_000,
        log,
        registry: new Registry(),
      });
      try {
        await scanClient.ping(); // a Cluster client knows its masters once connected
        // Service names with `:pl:` and spaces in them still parse back. On a Cluster they are
        // picked so that their slots fall on more than one master.
        const masterOf = async (svc: string): Promise<string> => {
          if (topology === 'standalone') return 'one';
          const slot = (await scanClient.cluster('KEYSLOT', `sf:{${ns}:pl:${svc}}lease`)) as number;
          return (scanClient as Cluster).slots[slot]![0]!;
        };
        const services: string[] = [];
        const masters = new Set<string>();
        for (let i = 0; services.length < 6 || (topology === 'cluster' && masters.size < 2); i++) {
          const svc = `game:pl:eu west ${i}`;
          services.push(svc);
          masters.add(await masterOf(svc));
        }
        for (const svc of services) {
          await other.registerPod(ns, svc, 2, { capacity: 5, ttlSeconds: 1 });
          await other.allocate(ns, 'v1', svc, { persistSeconds: -1 });
        }
        await sleep(1200);
        const run = await sweeper.run();
        expect(run.failures).toBe(0);
        for (const svc of services) {
          expect(sweeper.services()).toContainEqual({ ns, svc });
          expect(await other.getLinkedPod(ns, 'v1', svc)).toBe(-1);
        }
      } finally {
        await sweeper.close();
        await executor.close();
        await other.close();
        scanClient.disconnect();
      }
    }, 20_000);
  }
});

describe('--placement-sweep-ms / STATEFUL_ROUTE_PLACEMENT_SWEEP_MS', () => {
  test('default 5000, 0 turns it off, flags win; malformed values are SR_CONFIG', () => {
    const config = (argv: string[], env: Record<string, string> = {}) => {
      const loaded = loadConfig(argv, env);
      if (loaded.help || loaded.version) throw new Error('no config');
      return loaded.config.placementSweepMs;
    };
    expect(config([])).toBe(5000);
    expect(config(['--placement-sweep-ms', '0'])).toBe(0);
    expect(config([], { STATEFUL_ROUTE_PLACEMENT_SWEEP_MS: '250' })).toBe(250);
    expect(
      config(['--placement-sweep-ms', '1000'], { STATEFUL_ROUTE_PLACEMENT_SWEEP_MS: '250' }),
    ).toBe(1000);
    for (const bad of ['abc', '-1', '1.5', '01', '3600001', ' 5']) {
      expect(() => config([`--placement-sweep-ms=${bad}`]), bad).toThrow(
        expect.objectContaining({ code: 'SR_CONFIG', source: '--placement-sweep-ms' }),
      );
    }
    expect(() => config([], { STATEFUL_ROUTE_PLACEMENT_SWEEP_MS: 'x' })).toThrow(
      expect.objectContaining({ code: 'SR_CONFIG', source: 'STATEFUL_ROUTE_PLACEMENT_SWEEP_MS' }),
    );
  });

  test('the bin with --placement-sweep-ms abc exits 2 with SR_CONFIG, naming the flag', () => {
    const result = spawnSync(process.execPath, [MAIN, '--placement-sweep-ms', 'abc'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--placement-sweep-ms: must be a decimal integer from 0');
    expect(result.stderr).toContain('SR_CONFIG');
  });
});
