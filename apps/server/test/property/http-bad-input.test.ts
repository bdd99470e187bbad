// Property tests of every HTTP route with a real Redis behind it: malformed ids, bodies,
// queries and headers are answered 4xx with a code, never 5xx, and leave the Redis keyspace
// byte for byte as it was. Ids that are odd but legal reach exactly their own key.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RedisServer } from '@stateful-route/test-redis';
import { linkIndexKey, linkKey } from '@stateful-route/executor-core';
import { buildApp } from '../../src/index.js';

let redis: RedisServer;
let admin: Redis;
let app: FastifyInstance;

// A Redis of its own: the keyspace check covers every key, so no other test may write here.
beforeAll(async () => {
  redis = await startRedis();
  admin = redis.client();
  app = await buildApp({ config: { redisUrl: redis.url, logLevel: 'silent' } });
  // Some data for writes to (wrongly) overwrite.
  const seed = [
    [
      'PUT',
      '/v1/namespaces/prop/users/u1/links/room',
      { podId: 1, persistSeconds: -1, mode: 'set' },
    ],
    [
      'PUT',
      '/v1/namespaces/prop/users/u2/links/room',
      { podId: 2, persistSeconds: 600, mode: 'set' },
    ],
    ['PUT', '/v1/namespaces/prop/services/room/pods/0/state', { state: 'READY' }],
    ['PUT', '/v1/namespaces/prop/services/room/workload', { state: 'w1' }],
  ] as const;
  for (const [method, url, payload] of seed) {
    const reply = await app.inject({ method, url, payload });
    expect(reply.statusCode).toBeLessThan(300);
  }
});
afterAll(async () => {
  await app?.close();
  admin?.disconnect();
  await redis?.stop();
});

/** Every key with its DUMP (value, type and TTL-less encoding) and whether it has a TTL. */
async function keyspace(): Promise<Record<string, string>> {
  const keys = (await admin.keys('*')).sort();
  const out: Record<string, string> = {};
  for (const key of keys) {
    const [dump, ttl] = await Promise.all([admin.dumpBuffer(key), admin.pttl(key)]);
    out[key] = `${dump?.toString('hex')} ttl=${ttl > 0 ? 'yes' : ttl}`;
  }
  return out;
}

// ---- the routes ---------------------------------------------------------------------------

type BodyKind = 'state' | 'workload' | 'services' | 'link' | 'uids' | null;
interface Ids {
  ns: string;
  svc: string;
  uid: string;
  pod: string;
}
interface Route {
  name: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path from already-encoded segments. */
  path: (s: Ids) => string;
  /** Which segments the path uses. */
  uses: (keyof Ids)[];
  body: BodyKind;
  /** Query parameters the route takes, for the bad-query property. */
  query: 'link-get' | 'link-delete' | null;
}

const ROUTES: Route[] = [
  {
    name: 'setServiceState',
    method: 'PUT',
    path: (s) => `/v1/namespaces/${s.ns}/services/${s.svc}/pods/${s.pod}/state`,
    uses: ['ns', 'svc', 'pod'],
    body: 'state',
    query: null,
  },
  {
    name: 'getServiceState',
    method: 'GET',
    path: (s) => `/v1/namespaces/${s.ns}/services/${s.svc}/pods`,
    uses: ['ns', 'svc'],
    body: null,
    query: null,
  },
  {
    name: 'setWorkloadState',
    method: 'PUT',
    path: (s) => `/v1/namespaces/${s.ns}/services/${s.svc}/workload`,
    uses: ['ns', 'svc'],
    body: 'workload',
    query: null,
  },
  {
    name: 'getWorkloadState',
    method: 'GET',
    path: (s) => `/v1/namespaces/${s.ns}/services/${s.svc}/workload`,
    uses: ['ns', 'svc'],
    body: null,
    query: null,
  },
  {
    name: 'getWorkloadStateBatch',
    method: 'POST',
    path: (s) => `/v1/namespaces/${s.ns}/workloads/query`,
    uses: ['ns'],
    body: 'services',
    query: null,
  },
  {
    name: 'writeLink',
    method: 'PUT',
    path: (s) => `/v1/namespaces/${s.ns}/users/${s.uid}/links/${s.svc}`,
    uses: ['ns', 'uid', 'svc'],
    body: 'link',
    query: null,
  },
  {
    name: 'getLinkedPod',
    method: 'GET',
    path: (s) => `/v1/namespaces/${s.ns}/users/${s.uid}/links/${s.svc}`,
    uses: ['ns', 'uid', 'svc'],
    body: null,
    query: 'link-get',
  },
  {
    name: 'removeLink',
    method: 'DELETE',
    path: (s) => `/v1/namespaces/${s.ns}/users/${s.uid}/links/${s.svc}`,
    uses: ['ns', 'uid', 'svc'],
    body: null,
    query: 'link-delete',
  },
  {
    name: 'getLinkService',
    method: 'GET',
    path: (s) => `/v1/namespaces/${s.ns}/users/${s.uid}/links`,
    uses: ['ns', 'uid'],
    body: null,
    query: null,
  },
  {
    name: 'batchGetLinkedPod',
    method: 'POST',
    path: (s) => `/v1/namespaces/${s.ns}/services/${s.svc}/links/query`,
    uses: ['ns', 'svc'],
    body: 'uids',
    query: null,
  },
];

const GOOD_IDS: Ids = { ns: 'prop', svc: 'room', uid: 'u1', pod: '0' };
const GOOD_BODY: Record<Exclude<BodyKind, null>, unknown> = {
  state: { state: 'READY' },
  workload: { state: 'w2' },
  services: { services: ['room', 'lobby'] },
  link: { podId: 3, persistSeconds: -1, mode: 'set' },
  uids: { uids: ['u1', 'u2'] },
};

// ---- arbitraries --------------------------------------------------------------------------

const text = fc.string({ maxLength: 12 });
const enc = (s: string) => encodeURIComponent(s);

/** Ids the contract refuses, as path segments (most percent-encoded, some raw tricks). */
const badIdSegment: fc.Arbitrary<string> = fc.oneof(
  // braces anywhere
  fc.tuple(text, fc.constantFrom('{', '}', '{}', '}{'), text).map(([a, b, c]) => enc(a + b + c)),
  // control characters (C0, DEL, C1)
  fc
    .tuple(
      text,
      fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })),
      text,
    )
    .map(([a, c, b]) => enc(a + String.fromCharCode(c) + b)),
  // blank after trimming
  fc.constantFrom(' ', '  ', '\u00a0', '\u3000 ').map(enc),
  // longer than 512 UTF-8 bytes (ASCII, 2-byte and 3-byte characters)
  fc
    .tuple(fc.constantFrom('a', 'é', '日'), fc.integer({ min: 0, max: 300 }))
    .map(([c, extra]) => enc(c.repeat(Math.ceil(513 / Buffer.byteLength(c)) + extra))),
  // raw percent-encoding that is not UTF-8, or not percent-encoding at all
  fc.constantFrom(
    '%FF',
    'a%FFb',
    '%C0%AF',
    '%C0%AE%C0%AE',
    '%ED%A0%80', // a lone surrogate in CESU form
    '%E2%82',
    '%F4%90%80%80', // above U+10FFFF
    '%',
    '%zz',
    'abc%',
    '%7B',
    '%7D',
    '%7Bns%7D',
    '%00',
    '%0A',
    '%0D%0A',
    '%7F',
    '%C2%85',
    '%20',
    '%09',
  ),
);

/** Ids that look dangerous but are legal: they must be stored under exactly their own key. */
const oddLegalId: fc.Arbitrary<{ segment: string; id: string }> = fc.oneof(
  fc.constantFrom(
    // dot segments: see the property
    { segment: '..', id: '..' },
    { segment: '.', id: '.' },
    { segment: '%2e', id: '.' },
    { segment: '%2e%2e', id: '..' },
    { segment: '%2F', id: '/' },
    { segment: 'a%2Fb', id: 'a/b' },
    { segment: '..%2F..%2Fetc', id: '../../etc' },
    { segment: '%252F', id: '%2F' },
    { segment: '%25', id: '%' },
    { segment: '%2525', id: '%25' },
    { segment: 'a%20b', id: 'a b' },
    { segment: '%20a', id: ' a' },
    { segment: 'sf%3A%5Bx%5D', id: 'sf:[x]' },
    { segment: '*', id: '*' },
    { segment: '%3F%23', id: '?#' },
    { segment: enc('a'.repeat(512)), id: 'a'.repeat(512) },
    { segment: enc('日'.repeat(170)), id: '日'.repeat(170) },
  ),
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
    // eslint-disable-next-line no-control-regex -- the id rule itself: no C0, DEL or C1
    .filter((s) => s.trim() !== '' && !/[{}\u0000-\u001f\u007f-\u009f]/.test(s))
    .map((id) => ({ segment: enc(id), id })),
);

const badPodSegment = fc.constantFrom(
  '-1',
  '1.5',
  '1e3',
  'abc',
  '01',
  '+1',
  '0x10',
  '%201',
  '9007199254740993',
  '99999999999999999999999',
  '-0',
  'NaN',
  'Infinity',
);

const notAnInteger = fc.oneof(
  fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
  fc.constantFrom('3', '-1', '', null, true, false, [], {}, [1], { value: 1 }),
);
const badPodId = fc.oneof(
  fc.integer({ max: -1 }),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -(2 ** 53)),
  notAnInteger,
);
const badPersist = fc.oneof(
  fc.constant(0),
  fc.integer({ max: -2 }),
  fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(1e21, 1e308, 2 ** 53),
  notAnInteger,
);
const badMode = fc.oneof(
  fc.string().filter((s) => !['set', 'try', 'if-absent'].includes(s)),
  fc.constantFrom('SET', 'Set', ' set', 'if_absent', null, 1, true, ['set']),
);
const badString = fc.oneof(fc.constantFrom(null, 1, true, [], {}, ['a'], 1.5), fc.integer());

/** A body for `kind` with at least one wrong field, a missing or extra field, or the wrong shape. */
function badBody(kind: Exclude<BodyKind, null>): fc.Arbitrary<unknown> {
  const shapes = fc.constantFrom(null, 1, 'x', true, [], [GOOD_BODY[kind]], '');
  const extra = fc
    .string({ minLength: 1, maxLength: 8 })
    .filter((k) => !(k in (GOOD_BODY[kind] as object)))
    .map((k) => ({ ...(GOOD_BODY[kind] as object), [k]: 1 }));
  const missing = fc
    .constantFrom(...Object.keys(GOOD_BODY[kind] as object))
    .map((drop) =>
      Object.fromEntries(Object.entries(GOOD_BODY[kind] as object).filter(([k]) => k !== drop)),
    );
  switch (kind) {
    case 'link':
      return fc.oneof(
        shapes,
        extra,
        missing,
        fc
          .record({
            podId: fc.oneof(fc.constant(3), badPodId),
            persistSeconds: fc.oneof(fc.constant(-1), fc.constant(60), badPersist),
            mode: fc.oneof(fc.constantFrom('set', 'try', 'if-absent'), badMode),
          })
          .filter(
            (b) =>
              !(
                Number.isSafeInteger(b.podId) &&
                (b.podId as number) >= 0 &&
                (b.persistSeconds === -1 || b.persistSeconds === 60) &&
                ['set', 'try', 'if-absent'].includes(b.mode as string)
              ),
          ),
      );
    case 'state':
      return fc.oneof(
        shapes,
        extra,
        missing,
        badString.map((state) => ({ state })),
        fc.constantFrom('', ' ', '\t').map((state) => ({ state })),
      );
    case 'workload':
      return fc.oneof(
        shapes,
        extra,
        missing,
        badString.map((state) => ({ state })),
      );
    case 'services':
    case 'uids': {
      const field = kind;
      return fc.oneof(
        shapes,
        extra,
        missing,
        badString.filter((v) => !Array.isArray(v)).map((v) => ({ [field]: v })),
        // one bad element among good ones
        fc
          .tuple(
            fc.array(fc.constantFrom('a', 'b'), { maxLength: 3 }),
            fc.oneof(
              badString.filter((v) => typeof v !== 'string'),
              badIdSegment.map((s) => {
                try {
                  return decodeURIComponent(s);
                } catch {
                  return '{';
                }
              }),
            ),
          )
          .map(([good, bad]) => ({ [field]: [...good, bad] })),
        // more than the batch cap (1000)
        fc.integer({ min: 1001, max: 1500 }).map((n) => ({
          [field]: Array.from({ length: n }, (_, i) => `x${i}`),
        })),
      );
    }
  }
}

/** Raw bodies: not JSON, truncated, or the wrong content type, or over the body limit. */
const rawBody = fc.oneof(
  fc.constantFrom(
    { payload: '{', type: 'application/json' },
    { payload: '{"podId":1,}', type: 'application/json' },
    { payload: '', type: 'application/json' },
    { payload: 'null', type: 'application/json' },
    { payload: '{"podId":1e400,"persistSeconds":-1,"mode":"set"}', type: 'application/json' },
    {
      payload: '{"podId":99999999999999999999999,"persistSeconds":-1,"mode":"set"}',
      type: 'application/json',
    },
    { payload: '{"podId":3,"persistSeconds":-1,"mode":"set"}', type: 'text/plain' },
    { payload: 'podId=3', type: 'application/x-www-form-urlencoded' },
    { payload: '{"__proto__":{"x":1},"podId":3}', type: 'application/json' },
    { payload: '{"constructor":{"prototype":{"x":1}}}', type: 'application/json' },
  ),
  fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }).map((size) => ({
    payload: JSON.stringify({ podId: 1, persistSeconds: -1, mode: 'set', pad: 'x'.repeat(size) }),
    type: 'application/json',
  })),
);

const badQuery = {
  'link-get': fc.constantFrom(
    'persistentOnly=yes',
    'persistentOnly=1',
    'persistentOnly=TRUE',
    'persistentOnly=',
    'other=1',
    'persistentOnly=true&persistentOnly=false',
  ),
  'link-delete': fc.oneof(
    fc.constantFrom(
      'keepSeconds=-2',
      'keepSeconds=1.5',
      'keepSeconds=abc',
      'keepSeconds=',
      'keepSeconds=1e3',
      'keepSeconds=99999999999999999999',
      'podId=-1',
      'podId=x',
      'podId=1.5',
      'podId=01',
      'podId=9007199254740993',
      'other=1',
    ),
    fc.integer({ max: -2 }).map((n) => `keepSeconds=${n}`),
  ),
};

// ---- the checks ---------------------------------------------------------------------------

interface Sent {
  method: Route['method'];
  url: string;
  payload?: string | Buffer;
  headers?: Record<string, string>;
}

async function send(request: Sent): Promise<{ status: number; code: unknown; body: string }> {
  const reply = await app.inject({
    method: request.method,
    url: request.url,
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
    headers: request.headers ?? {},
  });
  let code: unknown;
  try {
    code = (JSON.parse(reply.body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: reply.statusCode, code, body: reply.body };
}

function withBody(route: Route, body: unknown): Sent {
  return {
    method: route.method,
    url: route.path(GOOD_IDS),
    ...(body !== undefined
      ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  };
}

/** Sends the request and checks: 4xx, an SR_ code, and not one key of Redis changed. */
async function expectRefused(request: Sent, before: Record<string, string>): Promise<number> {
  const reply = await send(request);
  const label = `${request.method} ${request.url.slice(0, 200)} ${String(request.payload).slice(0, 200)}`;
  expect(reply.status, `${label} -> ${reply.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(reply.status, `${label} -> ${reply.body.slice(0, 300)}`).toBeLessThan(500);
  expect(reply.code, `${label} -> ${reply.body.slice(0, 300)}`).toMatch(/^SR_[A-Z_]+$/);
  expect(await keyspace(), label).toEqual(before);
  return reply.status;
}

const RUNS = 100;

describe('every HTTP route refuses bad input with a 4xx code and writes nothing', () => {
  test('bad ids in the path (braces, control characters, blank, too long, bad UTF-8)', async () => {
    const before = await keyspace();
    const counts = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.nat(),
        badIdSegment,
        async (route, which, segment) => {
          const slot = route.uses.filter((u) => u !== 'pod')[
            which % route.uses.filter((u) => u !== 'pod').length
          ]!;
          const ids = { ...GOOD_IDS, [slot]: segment };
          const request: Sent = {
            method: route.method,
            url: route.path(ids),
            ...(route.body
              ? {
                  payload: JSON.stringify(GOOD_BODY[route.body]),
                  headers: { 'content-type': 'application/json' },
                }
              : {}),
          };
          const status = await expectRefused(request, before);
          counts.set(status, (counts.get(status) ?? 0) + 1);
        },
      ),
      { numRuns: RUNS * 2 },
    );
    console.log(`[property] bad path ids: statuses ${JSON.stringify(Object.fromEntries(counts))}`);
  });

  test('bad pod ids in the state path', async () => {
    const before = await keyspace();
    await fc.assert(
      fc.asyncProperty(badPodSegment, async (pod) => {
        await expectRefused(
          {
            method: 'PUT',
            url: ROUTES[0]!.path({ ...GOOD_IDS, pod }),
            payload: JSON.stringify({ state: 'READY' }),
            headers: { 'content-type': 'application/json' },
          },
          before,
        );
      }),
      { numRuns: 40 },
    );
  });

  test('wrong JSON types, huge numbers, negative and fractional pods and TTLs, bad shapes', async () => {
    const before = await keyspace();
    const withBodies = ROUTES.filter((r) => r.body !== null);
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...withBodies)
          .chain((route) => fc.tuple(fc.constant(route), badBody(route.body!))),
        async ([route, body]) => {
          await expectRefused(withBody(route, body), before);
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  test('raw bodies: invalid JSON, wrong content type, prototype keys, over the body limit', async () => {
    const before = await keyspace();
    const withBodies = ROUTES.filter((r) => r.body !== null);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...withBodies), rawBody, async (route, raw) => {
        await expectRefused(
          {
            method: route.method,
            url: route.path(GOOD_IDS),
            payload: raw.payload,
            headers: { 'content-type': raw.type },
          },
          before,
        );
      }),
      { numRuns: 60 },
    );
  });

  test('bad query parameters', async () => {
    const before = await keyspace();
    const withQuery = ROUTES.filter((r) => r.query !== null);
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...withQuery)
          .chain((route) => fc.tuple(fc.constant(route), badQuery[route.query!])),
        async ([route, query]) => {
          await expectRefused(
            { method: route.method, url: `${route.path(GOOD_IDS)}?${query}` },
            before,
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('odd but legal ids reach exactly their own key', () => {
  test('path traversal, encoded slashes, double encoding, wildcards, Unicode', async () => {
    const before = await keyspace();
    await fc.assert(
      fc.asyncProperty(
        oddLegalId,
        fc.constantFrom<keyof Ids>('ns', 'uid', 'svc'),
        fc.nat({ max: 1000 }),
        async ({ segment, id }, slot, pod) => {
          const ids = { ...GOOD_IDS, uid: 'odd', [slot]: segment };
          const ns = slot === 'ns' ? id : 'prop';
          const uid = slot === 'uid' ? id : 'odd';
          const svc = slot === 'svc' ? id : 'room';
          const url = ROUTES[5]!.path(ids);
          const put = await send({
            method: 'PUT',
            url,
            payload: JSON.stringify({ podId: pod, persistSeconds: -1, mode: 'set' }),
            headers: { 'content-type': 'application/json' },
          });
          if (slot === 'ns' && id.includes(':')) {
            // Legal in a uid or service, but not in a namespace (issue 11 finding 5).
            expect(put.status, `${url} -> ${put.body}`).toBe(400);
            expect(JSON.parse(put.body)).toMatchObject({ error: { field: 'namespace' } });
            expect(await keyspace()).toEqual(before);
            return;
          }
          if (id === '..' || id === '.') {
            // Dot segments (raw or as %2e) are removed by URL normalisation (RFC 3986 5.2.4)
            // before routing, as clients do too: either another path that answers 4xx and
            // writes nothing, or (on a server that keeps them) the id's own key below.
            if (put.status !== 200) {
              expect(put.status).toBeGreaterThanOrEqual(400);
              expect(put.status).toBeLessThan(500);
              expect(await keyspace()).toEqual(before);
              return;
            }
          }
          expect(put.status, `${url} -> ${put.body}`).toBe(200);
          // Exactly the two link keys of the decoded id changed, nothing else.
          const after = await keyspace();
          const added = Object.keys(after).filter((k) => !(k in before));
          expect(added.sort()).toEqual([linkKey(ns, uid, svc), linkIndexKey(ns, uid)].sort());
          expect(await admin.get(linkKey(ns, uid, svc))).toBe(String(pod));
          const get = await send({ method: 'GET', url });
          expect(JSON.parse(get.body)).toEqual({ podId: pod });
          const del = await send({ method: 'DELETE', url });
          expect(JSON.parse(del.body)).toEqual({ removed: true });
          expect(await keyspace()).toEqual(before);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ---- issue 11: a namespace that spells another tenant's key, text that is not UTF-8 -------

/** Sends the request and checks its status, code and field, and that no key changed. */
async function expectRefusedAs(
  request: Sent,
  before: Record<string, string>,
  expected: { status: number; code: string; field?: string },
): Promise<void> {
  const reply = await send(request);
  const label = `${request.method} ${request.url.slice(0, 200)} ${String(request.payload).slice(0, 200)} ${JSON.stringify(request.headers ?? {})}`;
  expect(reply.status, `${label} -> ${reply.body.slice(0, 300)}`).toBe(expected.status);
  const body = JSON.parse(reply.body) as { error: { code: string; field?: string } };
  expect(body.error.code, label).toBe(expected.code);
  if (expected.field !== undefined) expect(body.error.field, label).toBe(expected.field);
  expect(await keyspace(), label).toEqual(before);
}

/** Byte sequences that are not UTF-8: Latin-1, stray continuation, overlong, surrogate, truncated, above U+10FFFF. */
const NOT_UTF8: readonly Buffer[] = [
  Buffer.from([0xe9]),
  Buffer.from([0xff]),
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
];

/** A body of `kind` with `bad` inside one of its strings: valid JSON once decoded with U+FFFD. */
function bodyWithBytes(kind: Exclude<BodyKind, null>, bad: Buffer): Buffer {
  const [head, tail] = {
    state: ['{"state":"caf', '"}'],
    workload: ['{"state":"caf', '"}'],
    services: ['{"services":["room","caf', '"]}'],
    link: ['{"podId":3,"persistSeconds":-1,"mode":"set', '"}'],
    uids: ['{"uids":["u1","caf', '"]}'],
  }[kind];
  return Buffer.concat([Buffer.from(head!, 'utf8'), bad, Buffer.from(tail!, 'utf8')]);
}

/** One HTTP/1.1 request over a plain socket, bytes as given; the status and body of the reply. */
function rawRequest(port: number, request: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (!status || split < 0) {
        reject(new Error(`not an HTTP reply: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ status: Number(status[1]), body: text.slice(split + 4) });
    });
    // Written, not ended: the server closes the connection after its reply (Connection: close).
    socket.write(request);
  });
}

describe('issue 11: input that would reach another key, or be stored altered, is refused', () => {
  test("issue 11 finding 5: PUT workload of namespace 'a:lk:b' answers 400 SR_VALIDATION (namespace) and leaves the link index of uid 'b:workload:c' in 'a' intact", async () => {
    const link = await send({
      method: 'PUT',
      url: '/v1/namespaces/tenant/users/b:workload:c/links/room',
      payload: JSON.stringify({ podId: 4, persistSeconds: -1, mode: 'set' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(link.status, link.body).toBe(200);
    const before = await keyspace();
    expect(await admin.type(linkIndexKey('tenant', 'b:workload:c'))).toBe('hash');
    for (const url of [
      '/v1/namespaces/tenant:lk:b/services/c/workload',
      '/v1/namespaces/tenant%3Alk%3Ab/services/c/workload',
    ]) {
      const reply = await send({
        method: 'PUT',
        url,
        payload: JSON.stringify({ state: 'Running' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(reply.status, reply.body).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({
        error: {
          code: 'SR_VALIDATION',
          field: 'namespace',
          message: "namespace: must not contain ':'",
        },
      });
    }
    expect(await keyspace()).toEqual(before);
    expect(await admin.type(linkIndexKey('tenant', 'b:workload:c'))).toBe('hash');
    const links = await send({
      method: 'GET',
      url: '/v1/namespaces/tenant/users/b:workload:c/links',
    });
    expect(links.status, links.body).toBe(200);
    expect(JSON.parse(links.body)).toEqual({ links: { room: 4 } });
    const removed = await send({
      method: 'DELETE',
      url: '/v1/namespaces/tenant/users/b:workload:c/links/room',
    });
    expect(JSON.parse(removed.body)).toEqual({ removed: true });
  });

  test("issue 11 finding 5: a ':' in the namespace of any route answers 400 SR_VALIDATION (namespace) and writes nothing", async () => {
    const before = await keyspace();
    const part = fc
      .string({ unit: 'grapheme', maxLength: 8 })
      // eslint-disable-next-line no-control-regex -- keep every other id rule satisfied
      .filter((s) => !/[{}\u0000-\u001f\u007f-\u009f]/.test(s));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        part,
        part,
        fc.boolean(),
        async (route, a, b, rawColon) => {
          const segment = rawColon ? `${enc(a)}:${enc(b)}` : enc(`${a}:${b}`);
          await expectRefusedAs(
            {
              method: route.method,
              url: route.path({ ...GOOD_IDS, ns: segment }),
              ...(route.body
                ? {
                    payload: JSON.stringify(GOOD_BODY[route.body]),
                    headers: { 'content-type': 'application/json' },
                  }
                : {}),
            },
            before,
            { status: 400, code: 'SR_VALIDATION', field: 'namespace' },
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('issue 11 finding 6: a JSON body that is not UTF-8 answers 400 SR_VALIDATION (body) on every route and writes nothing', async () => {
    const before = await keyspace();
    for (const route of ROUTES.filter((r) => r.body !== null)) {
      for (const bad of NOT_UTF8) {
        for (const type of ['application/json', 'application/json; charset=utf-8']) {
          await expectRefusedAs(
            {
              method: route.method,
              url: route.path(GOOD_IDS),
              payload: bodyWithBytes(route.body!, bad),
              headers: { 'content-type': type },
            },
            before,
            { status: 400, code: 'SR_VALIDATION', field: 'body' },
          );
        }
      }
    }
    const reply = await send({
      method: 'PUT',
      url: '/v1/namespaces/prop/services/room/workload',
      payload: bodyWithBytes('workload', Buffer.from([0xe9])),
      headers: { 'content-type': 'application/json' },
    });
    expect(JSON.parse(reply.body)).toEqual({
      error: { code: 'SR_VALIDATION', field: 'body', message: 'body: must be valid UTF-8' },
    });
  });

  test('issue 11 finding 6: a JSON content type with a charset other than UTF-8 answers 415 SR_UNSUPPORTED_MEDIA_TYPE and writes nothing', async () => {
    const before = await keyspace();
    for (const charset of [
      'iso-8859-1',
      'ISO-8859-1',
      '"latin1"',
      'windows-1252',
      'utf-16',
      'us-ascii',
      '',
    ]) {
      for (const payload of [
        bodyWithBytes('workload', Buffer.from([0xe9])),
        Buffer.from(JSON.stringify(GOOD_BODY.workload)),
      ]) {
        await expectRefusedAs(
          {
            method: 'PUT',
            url: '/v1/namespaces/prop/services/room/workload',
            payload,
            headers: { 'content-type': `application/json; charset=${charset}` },
          },
          before,
          { status: 415, code: 'SR_UNSUPPORTED_MEDIA_TYPE' },
        );
      }
    }
  });

  test('issue 11 finding 6: UTF-8 bodies are still taken (no charset, charset=utf-8 in any spelling) and stored exactly', async () => {
    const cases = [
      ['application/json', 'café'],
      ['application/json; charset=utf-8', 'naïve 日本 🚀'],
      ['application/json;charset=UTF-8', '\ufffd stays a replacement character'],
      ['application/json; charset="utf-8"', 'x'],
      ['Application/JSON; Charset=utf8', 'y'],
    ] as const;
    for (const [type, state] of cases) {
      const put = await send({
        method: 'PUT',
        url: '/v1/namespaces/utf8/services/room/workload',
        payload: Buffer.from(JSON.stringify({ state }), 'utf8'),
        headers: { 'content-type': type },
      });
      expect(put.status, `${type} -> ${put.body}`).toBe(204);
      expect(await admin.get('sf:{utf8:workload:room}'), type).toBe(state);
    }
    await admin.del('sf:{utf8:workload:room}');
  });

  test('issue 11 finding 6: path segments with percent-encoded bytes that are not UTF-8 answer 400 SR_VALIDATION (path)', async () => {
    const before = await keyspace();
    for (const segment of [
      'caf%E9',
      '%FF',
      '%80',
      '%C0%AF',
      '%ED%A0%80',
      '%E2%82',
      '%F4%90%80%80',
    ]) {
      for (const slot of ['ns', 'uid', 'svc'] as const) {
        await expectRefusedAs(
          {
            method: 'PUT',
            url: ROUTES[5]!.path({ ...GOOD_IDS, [slot]: segment }),
            payload: JSON.stringify(GOOD_BODY.link),
            headers: { 'content-type': 'application/json' },
          },
          before,
          { status: 400, code: 'SR_VALIDATION', field: 'path' },
        );
      }
    }
  });

  test('issue 11 finding 6: a Latin-1 body over a real socket answers 400 or 415 and nothing is stored', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const before = await keyspace();
    const body = Buffer.from('{"state":"caf\xe9"}', 'latin1');
    const cases = [
      ['application/json', 400, 'SR_VALIDATION'],
      ['application/json; charset=iso-8859-1', 415, 'SR_UNSUPPORTED_MEDIA_TYPE'],
    ] as const;
    for (const [type, status, code] of cases) {
      const head =
        'PUT /v1/namespaces/latin1/services/room/workload HTTP/1.1\r\n' +
        `Host: 127.0.0.1:${port}\r\nContent-Type: ${type}\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const reply = await rawRequest(port, Buffer.concat([Buffer.from(head, 'latin1'), body]));
      expect(reply.status, `${type} -> ${reply.body}`).toBe(status);
      expect((JSON.parse(reply.body) as { error: { code: string } }).error.code).toBe(code);
      expect(await admin.exists('sf:{latin1:workload:room}')).toBe(0);
    }
    // A raw (not percent-encoded) byte that is not UTF-8 in the path: Node's HTTP parser
    // refuses any such byte in the request target before routing.
    const good = Buffer.from(JSON.stringify(GOOD_BODY.workload));
    const request = Buffer.concat([
      Buffer.from('PUT /v1/namespaces/caf', 'latin1'),
      Buffer.from([0xff]),
      Buffer.from(
        '/services/room/workload HTTP/1.1\r\n' +
          `Host: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${good.length}\r\nConnection: close\r\n\r\n`,
        'latin1',
      ),
      good,
    ]);
    expect((await rawRequest(port, request)).status).toBe(400);
    expect(await keyspace()).toEqual(before);
  });
});
