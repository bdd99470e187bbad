// With a token set, every /v1 route refuses a missing or wrong token (401, nothing written),
// accepts the right one, and the token never reaches the log stream, even at trace level and
// even when a caller sends a near miss that contains it.
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RedisServer } from '@stateful-route/test-redis';
import { buildApp } from '../../src/index.js';

const TOKEN = 'pr0p-t0ken-Zx81-secret';

let redis: RedisServer;
let admin: Redis;
let app: FastifyInstance;
let logs = '';

beforeAll(async () => {
  redis = await startRedis();
  admin = redis.client();
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  app = await buildApp({
    config: { redisUrl: redis.url, token: TOKEN, logLevel: 'trace' },
    logStream,
  });
});
afterAll(async () => {
  await app?.close();
  admin?.disconnect();
  await redis?.stop();
});

async function keyspace(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of (await admin.keys('*')).sort()) {
    out[key] = (await admin.dumpBuffer(key))?.toString('hex') ?? '';
  }
  return out;
}

const ROUTES: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; payload?: unknown }[] = [
  {
    method: 'PUT',
    url: '/v1/namespaces/a/services/room/pods/0/state',
    payload: { state: 'READY' },
  },
  { method: 'GET', url: '/v1/namespaces/a/services/room/pods' },
  { method: 'PUT', url: '/v1/namespaces/a/services/room/workload', payload: { state: 'w' } },
  { method: 'GET', url: '/v1/namespaces/a/services/room/workload' },
  { method: 'POST', url: '/v1/namespaces/a/workloads/query', payload: { services: ['room'] } },
  {
    method: 'PUT',
    url: '/v1/namespaces/a/users/u1/links/room',
    payload: { podId: 1, persistSeconds: -1, mode: 'set' },
  },
  { method: 'GET', url: '/v1/namespaces/a/users/u1/links/room' },
  { method: 'GET', url: '/v1/namespaces/a/users/u1/links/room?persistentOnly=true' },
  { method: 'DELETE', url: '/v1/namespaces/a/users/u1/links/room' },
  { method: 'DELETE', url: '/v1/namespaces/a/users/u1/links/room?podId=1&keepSeconds=-1' },
  { method: 'GET', url: '/v1/namespaces/a/users/u1/links' },
  { method: 'POST', url: '/v1/namespaces/a/services/room/links/query', payload: { uids: ['u1'] } },
];

/** Authorization headers that must all be refused (undefined: no header at all). */
const wrongAuthorization: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    'Bearer',
    'Bearer ',
    TOKEN,
    `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
    `Bearer ${TOKEN}x`,
    `Bearer x${TOKEN}`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Bearer ${TOKEN.toUpperCase()}`,
    `Bearer ${TOKEN} ${TOKEN}`,
    `Bearer "${TOKEN}"`,
    `Token ${TOKEN}`,
  ),
  fc.string({ minLength: 1, maxLength: 40 }).map((t) => `Bearer ${t}`),
  fc.string({ maxLength: 60 }),
);

describe('bearer token on /v1', () => {
  test('a missing or wrong token is refused with 401 on every route, nothing written', async () => {
    const before = await keyspace();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), wrongAuthorization, async (route, header) => {
        const reply = await app.inject({
          method: route.method,
          url: route.url,
          ...(route.payload !== undefined ? { payload: route.payload as object } : {}),
          headers: header === undefined ? {} : { authorization: header },
        });
        expect(reply.statusCode, `${route.method} ${route.url} with ${header}`).toBe(401);
        expect(reply.json()).toMatchObject({ error: { code: 'SR_UNAUTHORIZED' } });
        expect(reply.body).not.toContain(TOKEN);
        expect(await keyspace()).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });

  test('the right token is accepted on every route', async () => {
    for (const route of ROUTES) {
      const reply = await app.inject({
        method: route.method,
        url: route.url,
        ...(route.payload !== undefined ? { payload: route.payload as object } : {}),
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(reply.statusCode, `${route.method} ${route.url}: ${reply.body}`).toBeLessThan(300);
    }
  });

  test('the token never appears in the logs', async () => {
    // Requests that log at every level: accepted, refused, failing validation, not found.
    await app.inject({ method: 'GET', url: '/v1/namespaces/a/users/u1/links/room' });
    await app.inject({
      method: 'GET',
      url: '/v1/namespaces/a/users/u%7B/links/room',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await app.inject({
      method: 'GET',
      url: '/nowhere',
      headers: { authorization: `Bearer ${TOKEN}`, 'x-api-key': 'unrelated' },
    });
    await app.inject({ method: 'GET', url: '/metrics' });
    expect(logs.length).toBeGreaterThan(1000);
    // Trace level: every request is logged, refused ones included.
    expect(logs).toContain('incoming request');
    expect(logs).toContain('request refused');
    expect(logs).not.toContain(TOKEN);
    // Not in an encoded form either.
    expect(logs).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(logs).not.toContain(encodeURIComponent(TOKEN));
  });
});
