// The bounds the executor promises, tried from outside: the command timeout holds for every
// call in flight (auto-pipelining on or off), checkHealth() answers within its own bound and
// tells the truth about scripts, and wrong options are refused with a typed error.
// A dedicated redis-server: CLIENT PAUSE would stall the other files' tests.
import type {} from '@stateful-route/test-redis/global-setup';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { createRedisExecutor, type StatefulRouteError } from '@stateful-route/executor-core';
import { ownRedis } from './helpers/own-redis.js';

const TIMEOUT_MS = 300;
// Timer granularity and a busy 2-core machine: a call may end this much after its bound.
const MARGIN_MS = 150;

const redis = ownRedis();
const client = redis.client;
const cleanup = { push: redis.after };

interface Outcome {
  op: string;
  ms: number;
  code: string;
}

/** Runs `call` and says how long it took and how it ended. */
async function timed(op: string, call: () => Promise<unknown>): Promise<Outcome> {
  const started = performance.now();
  try {
    await call();
    return { op, ms: performance.now() - started, code: 'ok' };
  } catch (error) {
    return { op, ms: performance.now() - started, code: (error as StatefulRouteError).code };
  }
}

describe('issue 11 finding 3: the command timeout holds for every call in flight', () => {
  for (const autoPipelining of [true, false]) {
    test(`calls started during CLIENT PAUSE end with SR_REDIS_TIMEOUT by the bound (auto-pipelining ${
      autoPipelining ? 'on' : 'off'
    })`, async () => {
      const data = client({ commandTimeout: TIMEOUT_MS, enableAutoPipelining: autoPipelining });
      const executor = createRedisExecutor({ redis: data, name: 'bounds' });
      cleanup.push(() => executor.close());
      await executor.loadScripts();
      const ns = uniqueNamespace('bounds');
      await executor.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 });
      const admin = client();
      await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
      cleanup.push(() => admin.call('CLIENT', 'UNPAUSE'));
      // Waves of every kind of call, a new wave every 50 ms while the earlier ones still wait:
      // with auto-pipelining, a later wave queues behind the pipeline in flight.
      const outcomes: Promise<Outcome>[] = [];
      for (let wave = 0; wave < 12; wave++) {
        outcomes.push(
          timed('getLinkedPod', () => executor.getLinkedPod(ns, 'u1', 'room')),
          timed('setLinkedPod', () =>
            executor.setLinkedPod(ns, 'u2', 'room', { podId: 1, persistSeconds: 100 }),
          ),
          timed('setWorkloadState', () => executor.setWorkloadState(ns, 'room', 'w')),
          timed('getServiceState', () => executor.getServiceState(ns, 'room')),
          timed('getWorkloadStateBatch', () => executor.getWorkloadStateBatch(ns, ['a', 'b'])),
        );
        await sleep(50);
      }
      const done = await Promise.all(outcomes);
      const slowest = Math.max(...done.map((o) => o.ms));
      console.log(
        `[bounds] auto-pipelining ${autoPipelining ? 'on' : 'off'}: ${done.length} calls, ` +
          `timeout ${TIMEOUT_MS} ms, slowest ${slowest.toFixed(0)} ms`,
      );
      expect(new Set(done.map((o) => o.code))).toEqual(new Set(['SR_REDIS_TIMEOUT']));
      expect(slowest).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    });
  }

  test('the executor option commandTimeoutMs bounds calls of a client without a timeout', async () => {
    const executor = createRedisExecutor({
      redis: client({ enableAutoPipelining: true }),
      commandTimeoutMs: TIMEOUT_MS,
    });
    cleanup.push(() => executor.close());
    const ns = uniqueNamespace('bounds');
    await executor.getWorkloadState(ns, 'room');
    const admin = client();
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    cleanup.push(() => admin.call('CLIENT', 'UNPAUSE'));
    const outcome = await timed('getWorkloadState', () => executor.getWorkloadState(ns, 'room'));
    expect(outcome.code).toBe('SR_REDIS_TIMEOUT');
    expect(outcome.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  test('with commandTimeoutMs and a client without a timeout, maintenance calls are bounded too', async () => {
    // Script loading, link scans and namespace sweeps send their own commands (SCRIPT LOAD,
    // SCAN, pipelines, UNLINK): each is bounded by the executor, not by ioredis.
    const executor = createRedisExecutor({
      redis: client({ enableAutoPipelining: true }),
      commandTimeoutMs: TIMEOUT_MS,
    });
    cleanup.push(() => executor.close());
    const ns = uniqueNamespace('bounds');
    await executor.setLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: -1 });
    const admin = client();
    await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
    cleanup.push(() => admin.call('CLIENT', 'UNPAUSE'));
    const done = await Promise.all([
      timed('loadScripts', () => executor.loadScripts()),
      timed('scanLinks', () => executor.scanLinks(ns)),
      timed('hasNamespaceKeys', () => executor.hasNamespaceKeys(ns)),
      timed('deleteNamespaceKeys', () => executor.deleteNamespaceKeys(ns)),
      timed('trySetLinkedPod', () =>
        executor.trySetLinkedPod(ns, 'u1', 'room', { podId: 4, persistSeconds: 60 }),
      ),
    ]);
    for (const outcome of done) {
      expect(outcome, outcome.op).toMatchObject({ code: 'SR_REDIS_TIMEOUT' });
      expect(outcome.ms, outcome.op).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    }
  });

  test('a bad commandTimeoutMs is refused', () => {
    for (const commandTimeoutMs of [0, -1, Number.NaN, '5' as unknown as number]) {
      expect(() => createRedisExecutor({ redis: client(), commandTimeoutMs })).toThrow(
        expect.objectContaining({ code: 'SR_VALIDATION', field: 'commandTimeoutMs' }),
      );
    }
  });
});

describe('issue 11 finding 7: checkHealth() has its own bound and tells the truth', () => {
  test('a healthy Redis is ok without loadScripts(); scriptsLoaded says what Redis holds', async () => {
    const data = client();
    await data.script('FLUSH');
    const executor = createRedisExecutor({ redis: data });
    cleanup.push(() => executor.close());
    const before = await executor.checkHealth();
    expect(before).toMatchObject({ ok: true, backend: 'redis', scriptsLoaded: false });
    expect(before.reason).toBeUndefined();
    // A call by SHA falls back to EVAL, which caches the script; all of them after loadScripts.
    await executor.loadScripts();
    expect(await executor.checkHealth()).toMatchObject({ ok: true, scriptsLoaded: true });
    // Flushed behind our back (a restart, SCRIPT FLUSH): still healthy, and it says so.
    await data.script('FLUSH');
    expect(await executor.checkHealth()).toMatchObject({ ok: true, scriptsLoaded: false });
  });

  test('an unreachable Redis (closed local port) answers ok:false within the bound', async () => {
    const port = await freePort();
    const unreachable = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    unreachable.on('error', () => {});
    cleanup.push(() => unreachable.disconnect());
    const executor = createRedisExecutor({ redis: unreachable });
    cleanup.push(() => executor.close());
    const started = performance.now();
    const health = await executor.checkHealth({ timeoutMs: TIMEOUT_MS });
    const ms = performance.now() - started;
    expect(health.ok).toBe(false);
    expect(health.reason).toMatch(/unreachable|did not answer/i);
    expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });

  test('a paused Redis answers ok:false within the default bound (the command timeout)', async () => {
    const executor = createRedisExecutor({
      redis: client({ enableAutoPipelining: true }),
      commandTimeoutMs: TIMEOUT_MS,
    });
    cleanup.push(() => executor.close());
    expect((await executor.checkHealth()).ok).toBe(true);
    const admin = client();
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    cleanup.push(() => admin.call('CLIENT', 'UNPAUSE'));
    const outcome = await timed('checkHealth', async () => {
      const health = await executor.checkHealth();
      if (health.ok) throw new Error('ok while paused');
    });
    expect(outcome.code).toBe('ok');
    expect(outcome.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
  });
});

describe('issue 11 finding 8: wrong options give a typed error naming the option', () => {
  const cases: [string, unknown, string][] = [
    ['a URL string', { redis: 'redis://127.0.0.1:6379' }, 'redis'],
    ['connection options', { redis: { host: '127.0.0.1', port: 6379 } }, 'redis'],
    ['no redis option', {}, 'redis'],
    ['an array with a non-client', { redis: [null] }, 'redis'],
    ['no options at all', undefined, 'options'],
    ['a non-function connectionFactory', { connectionFactory: 'x' }, 'connectionFactory'],
    ['a non-string name', { name: 5 }, 'name'],
    ['a non-object nearCache', { nearCache: true }, 'nearCache'],
  ];
  for (const [what, options, field] of cases) {
    test(what, () => {
      const withClient =
        options && typeof options === 'object' && !('redis' in options) && field !== 'redis'
          ? { redis: client({ lazyConnect: true }), ...options }
          : options;
      let thrown: unknown;
      try {
        createRedisExecutor(withClient as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'SR_VALIDATION', field });
      expect((thrown as Error).message).not.toMatch(/is not a function/);
    });
  }
});
