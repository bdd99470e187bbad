/**
 * The route suite, run on every backend: each route's happy path with the exact reply, and
 * every kind of bad input answered with its documented status, code and field, with the
 * stored data unchanged afterwards.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type BackendName, type ServerHarness } from '../helpers/harness.js';

const TOKEN = 'route-suite-token-0123';
const auth = { authorization: `Bearer ${TOKEN}` };
const MAX_BATCH = 50;

const enc = encodeURIComponent;

export function routeSuite(backend: BackendName): void {
  describe(`routes on ${backend}`, () => {
    let h: ServerHarness;
    let ns: string;
    const call = (options: InjectOptions) =>
      h.app.inject({ ...options, headers: { ...auth, ...options.headers } });
    const base = () => `/v1/namespaces/${enc(ns)}`;

    beforeAll(async () => {
      h = await startHarness(backend, { token: TOKEN, maxBatch: MAX_BATCH });
      ns = h.ns;
    });
    afterAll(async () => {
      await h.close();
    });

    test('pod states: PUT then GET', async () => {
      const put = await call({
        method: 'PUT',
        url: `${base()}/services/room/pods/0/state`,
        payload: { state: 'READY' },
      });
      expect(put.statusCode).toBe(204);
      expect(put.body).toBe('');
      await call({
        method: 'PUT',
        url: `${base()}/services/room/pods/7/state`,
        payload: { state: '12-1700000000' },
      });
      const get = await call({ method: 'GET', url: `${base()}/services/room/pods` });
      expect(get.statusCode).toBe(200);
      expect(get.json()).toEqual({ pods: { '0': 'READY', '7': '12-1700000000' } });
      const empty = await call({ method: 'GET', url: `${base()}/services/none/pods` });
      expect(empty.json()).toEqual({ pods: {} });
      expect(await h.snapshot(`${ns}:state:room`)).toEqual({
        [`sf:{${ns}:state:room}`]: { type: 'hash', value: { '0': 'READY', '7': '12-1700000000' } },
      });
    });

    test('workload: PUT, GET, absent values, batch query', async () => {
      const put = await call({
        method: 'PUT',
        url: `${base()}/services/room/workload`,
        payload: { state: 'Running' },
      });
      expect(put.statusCode).toBe(204);
      await call({
        method: 'PUT',
        url: `${base()}/services/gone/workload`,
        payload: { state: 'nil' },
      });
      expect(
        (await call({ method: 'GET', url: `${base()}/services/room/workload` })).json(),
      ).toEqual({ state: 'Running' });
      expect(
        (await call({ method: 'GET', url: `${base()}/services/gone/workload` })).json(),
      ).toEqual({ state: null });
      expect(
        (await call({ method: 'GET', url: `${base()}/services/none/workload` })).json(),
      ).toEqual({ state: null });
      const query = await call({
        method: 'POST',
        url: `${base()}/workloads/query`,
        payload: { services: ['room', 'gone', 'none'] },
      });
      expect(query.statusCode).toBe(200);
      expect(query.json()).toEqual({ states: { room: 'Running' } });
      const none = await call({
        method: 'POST',
        url: `${base()}/workloads/query`,
        payload: { services: [] },
      });
      expect(none.json()).toEqual({ states: {} });
    });

    test('links: set, try, if-absent, get, persistent-only, list, batch, remove', async () => {
      const link = (uid: string, svc: string, body: object) =>
        call({
          method: 'PUT',
          url: `${base()}/users/${enc(uid)}/links/${enc(svc)}`,
          payload: body,
        });
      let r = await link('u1', 'room', { podId: 3, persistSeconds: -1, mode: 'set' });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ previous: -1 });
      r = await link('u1', 'room', { podId: 4, persistSeconds: -1, mode: 'set' });
      expect(r.json()).toEqual({ previous: 3 });
      r = await link('u1', 'room', { podId: 5, persistSeconds: 300, mode: 'try' });
      expect(r.json()).toEqual({ linked: false, current: 4, previous: -1 });
      r = await link('u2', 'room', { podId: 0, persistSeconds: 300, mode: 'try' });
      expect(r.json()).toEqual({ linked: true, current: 0, previous: -1 });
      r = await link('u2', 'room', { podId: 6, persistSeconds: 300, mode: 'if-absent' });
      expect(r.json()).toEqual({ podId: 0 });
      r = await link('u3', 'room', { podId: 6, persistSeconds: 300, mode: 'if-absent' });
      expect(r.json()).toEqual({ podId: 6 });
      // Ids with URL-significant characters travel percent-encoded and are stored as given.
      r = await link('a/b?c#d %', 'chat room', { podId: 9, persistSeconds: -1, mode: 'set' });
      expect(r.json()).toEqual({ previous: -1 });
      await link('u1', 'chat', { podId: 2, persistSeconds: -1, mode: 'set' });

      const get = (uid: string, svc: string, query = '') =>
        call({ method: 'GET', url: `${base()}/users/${enc(uid)}/links/${enc(svc)}${query}` });
      expect((await get('u1', 'room')).json()).toEqual({ podId: 4 });
      expect((await get('u2', 'room')).json()).toEqual({ podId: 0 });
      expect((await get('nobody', 'room')).json()).toEqual({ podId: -1 });
      expect((await get('u1', 'room', '?persistentOnly=true')).json()).toEqual({ podId: 4 });
      expect((await get('u2', 'room', '?persistentOnly=true')).json()).toEqual({ podId: -1 });
      expect((await get('u2', 'room', '?persistentOnly=false')).json()).toEqual({ podId: 0 });
      expect((await get('a/b?c#d %', 'chat room')).json()).toEqual({ podId: 9 });
      expect(await h.snapshot(`${ns}:lk:a/b?c#d %}chat room`)).toEqual({
        [`sf:{${ns}:lk:a/b?c#d %}chat room`]: { type: 'string', value: '9' },
      });

      const list = await call({ method: 'GET', url: `${base()}/users/u1/links` });
      expect(list.json()).toEqual({ links: { room: 4, chat: 2 } });
      expect((await call({ method: 'GET', url: `${base()}/users/u2/links` })).json()).toEqual({
        links: {},
      });

      const batch = await call({
        method: 'POST',
        url: `${base()}/services/room/links/query`,
        payload: { uids: ['u3', 'u1', 'nobody', 'u2'] },
      });
      expect(batch.statusCode).toBe(200);
      expect(batch.json()).toEqual({ pods: { '0': ['u2'], '4': ['u1'], '6': ['u3'] } });

      const del = (uid: string, svc: string, query = '') =>
        call({ method: 'DELETE', url: `${base()}/users/${enc(uid)}/links/${enc(svc)}${query}` });
      expect((await del('u1', 'room', '?podId=3')).json()).toEqual({ removed: false });
      expect((await get('u1', 'room')).json()).toEqual({ podId: 4 });
      expect((await del('u1', 'room', '?podId=4&keepSeconds=-1')).json()).toEqual({
        removed: true,
      });
      expect((await get('u1', 'room')).json()).toEqual({ podId: -1 });
      expect((await del('u2', 'room', '?keepSeconds=60')).json()).toEqual({ removed: true });
      expect((await del('u2', 'room')).json()).toEqual({ removed: false });
      expect((await call({ method: 'GET', url: `${base()}/users/u1/links` })).json()).toEqual({
        links: { chat: 2 },
      });
    });

    test('replies carry a request id, and echo a sane x-request-id', async () => {
      const own = await call({
        method: 'GET',
        url: `${base()}/users/u1/links`,
        headers: { 'x-request-id': 'trace-42' },
      });
      expect(own.headers['x-request-id']).toBe('trace-42');
      const generated = await call({
        method: 'GET',
        url: `${base()}/users/u1/links`,
        headers: { 'x-request-id': 'bad id with spaces' },
      });
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    });

    describe('bad input: 4xx with a code, and nothing written', () => {
      const long = 'x'.repeat(513);
      const longUtf8 = 'é'.repeat(257); // 514 bytes in 257 characters
      interface BadCase {
        name: string;
        request: () => InjectOptions;
        status: number;
        code: string;
        field?: string;
      }
      const link = (uid: string, svc: string) => `${base()}/users/${uid}/links/${svc}`;
      const put = (url: string, payload: unknown): InjectOptions => ({
        method: 'PUT',
        url,
        payload: payload as InjectOptions['payload'],
      });
      const goodLink = { podId: 1, persistSeconds: -1, mode: 'set' };
      const cases: BadCase[] = [
        // ids in the path
        ...(
          [
            [
              'brace { in namespace',
              () => `/v1/namespaces/${enc(`${ns}{x`)}/services/room/pods/1/state`,
              'namespace',
            ],
            [
              'brace } in namespace',
              () => `/v1/namespaces/${enc(`}${ns}`)}/services/room/pods/1/state`,
              'namespace',
            ],
            ['brace in service', () => `${base()}/services/ro%7Dom/pods/1/state`, 'service'],
            ['blank service', () => `${base()}/services/%20%20/pods/1/state`, 'service'],
            [
              'control character in service',
              () => `${base()}/services/ro%01om/pods/1/state`,
              'service',
            ],
            ['NUL in service', () => `${base()}/services/ro%00om/pods/1/state`, 'service'],
            ['DEL in service', () => `${base()}/services/ro%7Fom/pods/1/state`, 'service'],
            ['service of 513 bytes', () => `${base()}/services/${long}/pods/1/state`, 'service'],
            [
              'service of 514 UTF-8 bytes',
              () => `${base()}/services/${enc(longUtf8)}/pods/1/state`,
              'service',
            ],
            ['negative pod', () => `${base()}/services/room/pods/-1/state`, 'podId'],
            ['fractional pod', () => `${base()}/services/room/pods/1.5/state`, 'podId'],
            ['pod with a leading zero', () => `${base()}/services/room/pods/01/state`, 'podId'],
            ['pod with an exponent', () => `${base()}/services/room/pods/1e3/state`, 'podId'],
            ['pod with a plus sign', () => `${base()}/services/room/pods/%2B1/state`, 'podId'],
            [
              'pod beyond 2^53',
              () => `${base()}/services/room/pods/9007199254740993/state`,
              'podId',
            ],
            ['pod that is not a number', () => `${base()}/services/room/pods/abc/state`, 'podId'],
          ] as const
        ).map(([name, url, field]) => ({
          name: `PUT state: ${name}`,
          request: () => put(url(), { state: 'READY' }),
          status: 400,
          code: 'SR_VALIDATION',
          field,
        })),
        {
          name: 'malformed percent-encoding',
          request: () => ({ method: 'GET', url: `${base()}/services/r%ZZ/pods` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'path',
        },
        {
          name: 'percent-encoded invalid UTF-8',
          request: () => ({ method: 'GET', url: `${base()}/services/r%FF%FE/pods` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'path',
        },
        {
          name: 'GET pods: brace in service',
          request: () => ({ method: 'GET', url: `${base()}/services/a%7Bb/pods` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'service',
        },
        // bodies of PUT state
        {
          name: 'PUT state: blank state',
          request: () => put(`${base()}/services/room/pods/1/state`, { state: '  ' }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'state',
        },
        {
          name: 'PUT state: state is a number',
          request: () => put(`${base()}/services/room/pods/1/state`, { state: 5 }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'state',
        },
        {
          name: 'PUT state: state is null',
          request: () => put(`${base()}/services/room/pods/1/state`, { state: null }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'state',
        },
        {
          name: 'PUT state: missing state',
          request: () => put(`${base()}/services/room/pods/1/state`, {}),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'state',
        },
        {
          name: 'PUT state: unknown property',
          request: () => put(`${base()}/services/room/pods/1/state`, { state: 'A', ttl: 5 }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'ttl',
        },
        {
          name: 'PUT state: body is an array',
          request: () => put(`${base()}/services/room/pods/1/state`, ['READY']),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'body',
        },
        {
          name: 'PUT state: body is a JSON string',
          request: () => ({
            ...put(`${base()}/services/room/pods/1/state`, '"READY"'),
            headers: { 'content-type': 'application/json' },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'body',
        },
        {
          name: 'PUT state: invalid JSON',
          request: () => ({
            ...put(`${base()}/services/room/pods/1/state`, '{"state":'),
            headers: { 'content-type': 'application/json' },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'body',
        },
        {
          name: 'PUT state: empty JSON body',
          request: () => ({
            ...put(`${base()}/services/room/pods/1/state`, ''),
            headers: { 'content-type': 'application/json' },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'body',
        },
        {
          name: 'PUT state: not JSON',
          request: () => ({
            ...put(`${base()}/services/room/pods/1/state`, 'state=READY'),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          status: 415,
          code: 'SR_UNSUPPORTED_MEDIA_TYPE',
        },
        {
          name: 'PUT state: body over the limit',
          request: () =>
            put(`${base()}/services/room/pods/1/state`, { state: 'x'.repeat(70 * 1024) }),
          status: 413,
          code: 'SR_BODY_TOO_LARGE',
        },
        {
          name: 'PUT state: __proto__ in the body',
          request: () => ({
            ...put(`${base()}/services/room/pods/1/state`, '{"state":"A","__proto__":{"x":1}}'),
            headers: { 'content-type': 'application/json' },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'body',
        },
        // workloads
        {
          name: 'PUT workload: state is an object',
          request: () => put(`${base()}/services/room/workload`, { state: { a: 1 } }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'state',
        },
        {
          name: 'PUT workload: control character in service',
          request: () => put(`${base()}/services/a%0Ab/workload`, { state: 'A' }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'service',
        },
        {
          name: 'query workloads: services is a string',
          request: () => ({
            method: 'POST',
            url: `${base()}/workloads/query`,
            payload: { services: 'room' },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'services',
        },
        {
          name: 'query workloads: a service is a number',
          request: () => ({
            method: 'POST',
            url: `${base()}/workloads/query`,
            payload: { services: ['room', 7] },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'services[1]',
        },
        {
          name: 'query workloads: a service has a brace',
          request: () => ({
            method: 'POST',
            url: `${base()}/workloads/query`,
            payload: { services: ['room', 'a}b'] },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'services[1]',
        },
        {
          name: 'query workloads: a blank service',
          request: () => ({
            method: 'POST',
            url: `${base()}/workloads/query`,
            payload: { services: [''] },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'services[0]',
        },
        {
          name: 'query workloads: over the batch cap',
          request: () => ({
            method: 'POST',
            url: `${base()}/workloads/query`,
            payload: { services: Array.from({ length: MAX_BATCH + 1 }, (_, i) => `s${i}`) },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'services',
        },
        // link writes
        ...(
          [
            ['persistSeconds 0', { podId: 1, persistSeconds: 0, mode: 'set' }, 'persistSeconds'],
            ['persistSeconds -2', { podId: 1, persistSeconds: -2, mode: 'try' }, 'persistSeconds'],
            [
              'persistSeconds 1.5',
              { podId: 1, persistSeconds: 1.5, mode: 'if-absent' },
              'persistSeconds',
            ],
            [
              'persistSeconds 2^31',
              { podId: 1, persistSeconds: 2 ** 31, mode: 'set' },
              'persistSeconds',
            ],
            [
              'persistSeconds as a string',
              { podId: 1, persistSeconds: '60', mode: 'set' },
              'persistSeconds',
            ],
            ['missing persistSeconds', { podId: 1, mode: 'set' }, 'persistSeconds'],
            ['negative pod', { podId: -1, persistSeconds: -1, mode: 'set' }, 'podId'],
            ['fractional pod', { podId: 2.5, persistSeconds: -1, mode: 'try' }, 'podId'],
            ['pod as a string', { podId: '3', persistSeconds: -1, mode: 'set' }, 'podId'],
            ['pod beyond 2^53', { podId: 2 ** 53 + 2, persistSeconds: -1, mode: 'set' }, 'podId'],
            ['pod as a boolean', { podId: true, persistSeconds: -1, mode: 'set' }, 'podId'],
            ['unknown mode', { podId: 1, persistSeconds: -1, mode: 'force' }, 'mode'],
            ['missing mode', { podId: 1, persistSeconds: -1 }, 'mode'],
          ] as const
        ).map(([name, body, field]) => ({
          name: `PUT link: ${name}`,
          request: () => put(link('u1', 'room'), body),
          status: 400,
          code: 'SR_VALIDATION',
          field,
        })),
        {
          name: 'PUT link: brace in uid',
          request: () => put(link('u%7B1', 'room'), goodLink),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'PUT link: closing brace in uid (key collision)',
          request: () => put(link('u1%7Droom', 'x'), goodLink),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'PUT link: blank uid',
          request: () => put(link('%09', 'room'), goodLink),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'PUT link: uid too long',
          request: () => put(link(long, 'room'), goodLink),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'PUT link: brace in service',
          request: () => put(link('u1', '%7Broom%7D'), goodLink),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'service',
        },
        // link reads and removes
        {
          name: 'GET link: persistentOnly=yes',
          request: () => ({ method: 'GET', url: `${link('u1', 'room')}?persistentOnly=yes` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'persistentOnly',
        },
        {
          name: 'GET link: unknown query parameter',
          request: () => ({ method: 'GET', url: `${link('u1', 'room')}?podId=3` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'podId',
        },
        {
          name: 'GET link: control character in uid',
          request: () => ({ method: 'GET', url: link('u%1B1', 'room') }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'DELETE link: keepSeconds -2',
          request: () => ({ method: 'DELETE', url: `${link('u1', 'room')}?keepSeconds=-2` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'keepSeconds',
        },
        {
          name: 'DELETE link: keepSeconds 1.5',
          request: () => ({ method: 'DELETE', url: `${link('u1', 'room')}?keepSeconds=1.5` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'keepSeconds',
        },
        {
          name: 'DELETE link: keepSeconds twice',
          request: () => ({
            method: 'DELETE',
            url: `${link('u1', 'room')}?keepSeconds=1&keepSeconds=2`,
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'keepSeconds',
        },
        {
          name: 'DELETE link: negative podId',
          request: () => ({ method: 'DELETE', url: `${link('u1', 'room')}?podId=-1` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'podId',
        },
        {
          name: 'DELETE link: fractional podId',
          request: () => ({ method: 'DELETE', url: `${link('u1', 'room')}?podId=3.0` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'podId',
        },
        {
          name: 'DELETE link: brace in uid',
          request: () => ({ method: 'DELETE', url: link('%7D', 'room') }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'GET links: uid of 514 UTF-8 bytes',
          request: () => ({ method: 'GET', url: `${base()}/users/${enc(longUtf8)}/links` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uid',
        },
        {
          name: 'GET links: lone surrogate in uid',
          request: () => ({ method: 'GET', url: `${base()}/users/%ED%A0%80/links` }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'path',
        },
        // batch link reads
        {
          name: 'query links: uids is an object',
          request: () => ({
            method: 'POST',
            url: `${base()}/services/room/links/query`,
            payload: { uids: { a: 1 } },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uids',
        },
        {
          name: 'query links: a uid is null',
          request: () => ({
            method: 'POST',
            url: `${base()}/services/room/links/query`,
            payload: { uids: ['u1', null] },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uids[1]',
        },
        {
          name: 'query links: a uid has a brace',
          request: () => ({
            method: 'POST',
            url: `${base()}/services/room/links/query`,
            payload: { uids: ['u1', 'u{2'] },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uids[1]',
        },
        {
          name: 'query links: a uid is too long',
          request: () => ({
            method: 'POST',
            url: `${base()}/services/room/links/query`,
            payload: { uids: [long] },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uids[0]',
        },
        {
          name: 'query links: over the batch cap',
          request: () => ({
            method: 'POST',
            url: `${base()}/services/room/links/query`,
            payload: { uids: Array.from({ length: MAX_BATCH + 1 }, (_, i) => `u${i}`) },
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uids',
        },
        {
          name: 'query links: missing uids',
          request: () => ({
            method: 'POST',
            url: `${base()}/services/room/links/query`,
            payload: {},
          }),
          status: 400,
          code: 'SR_VALIDATION',
          field: 'uids',
        },
        // unknown routes and methods
        {
          name: 'unknown route',
          request: () => ({ method: 'GET', url: `${base()}/nothing` }),
          status: 404,
          code: 'SR_NOT_FOUND',
        },
        {
          // Issue 14: a known path with another method is 405 (with Allow), not 404.
          name: 'unknown method on a known path',
          request: () => ({ method: 'PATCH', url: link('u1', 'room'), payload: goodLink }),
          status: 405,
          code: 'SR_METHOD_NOT_ALLOWED',
        },
      ];

      let before: Record<string, unknown>;
      beforeAll(async () => {
        // Data that a bad request could damage: a permanent link, a pod state, a workload.
        await call(put(link('u1', 'room'), { podId: 8, persistSeconds: -1, mode: 'set' }));
        await call(put(`${base()}/services/room/pods/1/state`, { state: 'BEFORE' }));
        await call(put(`${base()}/services/room/workload`, { state: 'BEFORE' }));
        before = await h.snapshot(ns);
        expect(Object.keys(before).length).toBeGreaterThanOrEqual(4);
      });

      test.each(cases)('$name -> $status $code $field', async (c) => {
        const reply = await call(c.request());
        expect(reply.statusCode).toBe(c.status);
        const body = reply.json() as { error: { code: string; message: string; field?: string } };
        expect(body.error.code).toBe(c.code);
        expect(body.error.field).toBe(c.field);
        expect(typeof body.error.message).toBe('string');
        expect(reply.body).not.toMatch(/\n\s+at /); // never a stack trace
        expect(await h.snapshot(ns)).toEqual(before);
      });

      test('no token, a wrong token, a wrong scheme: 401 on every /v1 route, nothing written', async () => {
        const routes: InjectOptions[] = [
          put(`${base()}/services/room/pods/1/state`, { state: 'X' }),
          { method: 'GET', url: `${base()}/services/room/pods` },
          put(`${base()}/services/room/workload`, { state: 'X' }),
          { method: 'GET', url: `${base()}/services/room/workload` },
          { method: 'POST', url: `${base()}/workloads/query`, payload: { services: ['room'] } },
          put(link('u1', 'room'), { podId: 2, persistSeconds: -1, mode: 'set' }),
          { method: 'GET', url: link('u1', 'room') },
          { method: 'DELETE', url: link('u1', 'room') },
          { method: 'GET', url: `${base()}/users/u1/links` },
          { method: 'POST', url: `${base()}/services/room/links/query`, payload: { uids: ['u1'] } },
          { method: 'GET', url: '/v1/report?format=html' },
          { method: 'GET', url: '/v1/optimizations' },
          { method: 'POST', url: '/v1/optimizations/apply', payload: {} },
          // Auth comes before parsing: an oversize body without a token is still a 401.
          put(`${base()}/services/room/pods/1/state`, { state: 'x'.repeat(70 * 1024) }),
        ];
        const headers: Record<string, string | undefined>[] = [
          {},
          { authorization: `Bearer ${TOKEN}x` },
          { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
          { authorization: `Basic ${TOKEN}` },
          { authorization: TOKEN },
          { authorization: 'Bearer ' },
        ];
        for (const route of routes) {
          for (const header of headers) {
            const reply = await h.app.inject({
              ...route,
              headers: header as Record<string, string>,
            });
            expect(reply.statusCode, `${route.method} ${route.url}`).toBe(401);
            expect(reply.json()).toEqual({
              error: { code: 'SR_UNAUTHORIZED', message: expect.any(String) },
            });
            expect(reply.headers['www-authenticate']).toBe('Bearer');
            expect(reply.body).not.toContain(TOKEN);
          }
        }
        expect(await h.snapshot(ns)).toEqual(before);
        // The scheme is case-insensitive.
        const ok = await h.app.inject({
          method: 'GET',
          url: link('u1', 'room'),
          headers: { authorization: `bearer ${TOKEN}` },
        });
        expect(ok.json()).toEqual({ podId: 8 });
      });
    });
  });
}
