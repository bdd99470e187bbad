/**
 * The server on each kind of backend it can build from its configuration: Redis Cluster,
 * and a Redis that is not there (requests fail fast with 503, /readyz says why).
 */
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { describe, expect, inject, test } from 'vitest';
import { buildApp } from '../src/index.js';

describe('Redis Cluster backend', () => {
  test('links and batch reads across slots through --redis-cluster', async () => {
    const app = await buildApp({
      config: { logLevel: 'silent', redisCluster: inject('clusterSeeds') },
    });
    expect(app.statefulRoute.backendSummary).toMatch(/^Redis Cluster with seeds /);
    const ns = uniqueNamespace('server-cluster');
    const uids = Array.from({ length: 20 }, (_, i) => `user-${i}`);
    for (const [i, uid] of uids.entries()) {
      const reply = await app.inject({
        method: 'PUT',
        url: `/v1/namespaces/${ns}/users/${uid}/links/room`,
        payload: { podId: i % 3, persistSeconds: i % 2 === 0 ? -1 : 60, mode: 'set' },
      });
      expect(reply.json()).toEqual({ previous: -1 });
    }
    const batch = await app.inject({
      method: 'POST',
      url: `/v1/namespaces/${ns}/services/room/links/query`,
      payload: { uids },
    });
    expect(batch.json()).toEqual({
      pods: {
        '0': uids.filter((_, i) => i % 3 === 0),
        '1': uids.filter((_, i) => i % 3 === 1),
        '2': uids.filter((_, i) => i % 3 === 2),
      },
    });
    const ready = await app.inject('/readyz');
    expect(ready.json()).toMatchObject({ status: 'ok', backend: 'redis', scriptsLoaded: true });
    await app.close();
  });
});

describe('Redis not reachable', () => {
  test('starts anyway; /readyz 503; operations fail fast with 503 and a Redis code; /healthz 200', async () => {
    const port = await freePort();
    const started = performance.now();
    const app = await buildApp({
      config: { logLevel: 'silent', redisUrl: `redis://127.0.0.1:${port}`, commandTimeoutMs: 200 },
    });
    // The first script load gave up after about one command timeout.
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'unavailable',
      backend: 'redis',
      scriptsLoaded: false,
    });
    const t0 = performance.now();
    const reply = await app.inject({
      method: 'PUT',
      url: '/v1/namespaces/ns/users/u/links/room',
      payload: { podId: 1, persistSeconds: -1, mode: 'if-absent' },
    });
    const elapsed = performance.now() - t0;
    expect(reply.statusCode).toBe(503);
    expect(['SR_REDIS_TIMEOUT', 'SR_REDIS_CONNECTION']).toContain(reply.json().error.code);
    expect(reply.headers['retry-after']).toBe('1');
    expect(elapsed).toBeLessThan(2000);
    await app.close();
  });
});
