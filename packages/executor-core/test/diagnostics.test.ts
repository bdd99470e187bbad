/**
 * The diagnostics channels: every operation is traced (start/end/asyncStart/asyncEnd, and
 * error with its code and type), point events fire for script loads, NOSCRIPT reloads,
 * connection changes and the executor's life cycle, and no payload carries a user value.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@stateful-route/test-redis';
import {
  CHANNELS,
  CorruptValueError,
  createRedisExecutor,
  OPERATIONS,
  type ConnectionMessage,
  type ExecutorLifecycleMessage,
  type NoscriptMessage,
  type OperationMessage,
  type ScriptLoadMessage,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { BACKENDS, createHarness, ready, type Harness } from './helpers/harness.js';

// Values that must never appear in a payload.
const NS = 'ns-SECRET1';
const UID = 'uid-SECRET2';
const SVC = 'svc-SECRET3';
const STATE = 'state-SECRET4';
const POD = 987651;
const SECRETS = ['SECRET1', 'SECRET2', 'SECRET3', 'SECRET4', String(POD)];

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
interface Seen {
  phase: Phase;
  message: OperationMessage;
  json: string;
}

/** Subscribes to the operation tracing channel for the duration of a test. */
function traceOperations(): { seen: Seen[]; dispose: () => void } {
  const seen: Seen[] = [];
  const record = (phase: Phase) => (message: unknown) => {
    const m = message as OperationMessage;
    seen.push({ phase, message: m, json: JSON.stringify(m) });
  };
  const handlers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  };
  const channel = diagnostics.tracingChannel(CHANNELS.operation);
  channel.subscribe(handlers);
  return { seen, dispose: () => channel.unsubscribe(handlers) };
}

/** Collects a point channel's payloads. */
function listen<T>(name: string): { seen: T[]; dispose: () => void } {
  const seen: T[] = [];
  const handler = (message: unknown) => seen.push(message as T);
  diagnostics.subscribe(name, handler);
  return { seen, dispose: () => diagnostics.unsubscribe(name, handler) };
}

function assertNoSecrets(payloads: unknown[]): void {
  for (const payload of payloads) {
    const json = JSON.stringify(payload);
    for (const secret of SECRETS) expect(json).not.toContain(secret);
  }
}

async function everyOperation(ex: StatefulExecutor): Promise<void> {
  await ex.setServiceState(NS, SVC, POD, STATE);
  await ex.getServiceState(NS, SVC);
  await ex.setWorkloadState(NS, SVC, STATE);
  await ex.getWorkloadState(NS, SVC);
  await ex.getWorkloadStateBatch(NS, [SVC, `${SVC}-2`, `${SVC}-3`]);
  await ex.setLinkedPod(NS, UID, SVC, { podId: POD, persistSeconds: -1 });
  await ex.trySetLinkedPod(NS, UID, SVC, { podId: POD + 1, persistSeconds: -1 });
  await ex.setLinkedPodIfAbsent(NS, UID, SVC, { podId: POD, persistSeconds: 300 });
  await ex.getLinkedPod(NS, UID, SVC);
  await ex.getLinkedPodIfPersist(NS, UID, SVC);
  await ex.batchGetLinkedPod(NS, [UID, `${UID}-2`], SVC);
  await ex.removeLinkedPod(NS, UID, SVC);
  await ex.removeLinkedPodWithId(NS, UID, SVC, { podId: POD });
  await ex.getLinkService(NS, UID);
}

describe.each(BACKENDS)('operation tracing on %s', (backend) => {
  let h: Harness;
  let trace: ReturnType<typeof traceOperations> | undefined;
  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    trace?.dispose();
    trace = undefined;
  });

  test('each operation publishes start, end, asyncStart and asyncEnd, with no user value', async () => {
    trace = traceOperations();
    await everyOperation(h.executor);
    const mine = trace.seen.filter((s) => s.message.executor === h.executor.name);
    for (const operation of OPERATIONS) {
      const phases = mine.filter((s) => s.message.operation === operation).map((s) => s.phase);
      expect(phases, operation).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    }
    for (const { phase, message } of mine) {
      expect(message.backend).toBe(h.executor.backend);
      expect(message.error).toBeUndefined();
      expect(message.errorCode).toBeUndefined();
      // Set when the call settles; a memory call may settle within the timer's resolution.
      if (phase === 'asyncEnd') {
        if (backend === 'memory') expect(message.duration).toBeGreaterThanOrEqual(0);
        else expect(message.duration).toBeGreaterThan(0);
      }
    }
    const items = (operation: string) =>
      mine.find((s) => s.message.operation === operation)!.message.items;
    expect(items('getWorkloadStateBatch')).toBe(3);
    expect(items('batchGetLinkedPod')).toBe(2);
    expect(items('getLinkedPod')).toBe(1);
    // Payloads as a subscriber would log them: serialised at publish time and at the end.
    for (const { json } of mine) for (const secret of SECRETS) expect(json).not.toContain(secret);
    assertNoSecrets(mine.map((s) => s.message));
  });

  test('a failed operation publishes error with its code and type', async () => {
    trace = traceOperations();
    await expect(h.executor.getLinkedPod(NS, `${UID}}`, SVC)).rejects.toMatchObject({
      code: 'SR_VALIDATION',
    });
    await expect(h.executor.setServiceState(NS, SVC, -POD, STATE)).rejects.toMatchObject({
      code: 'SR_VALIDATION',
    });
    const errors = trace.seen.filter((s) => s.phase === 'error');
    expect(errors.map((s) => s.message.operation)).toEqual(['getLinkedPod', 'setServiceState']);
    for (const { message } of errors) {
      expect(message.errorCode).toBe('SR_VALIDATION');
      expect(message.errorType).toBe('validation');
      expect(message.error?.code).toBe('SR_VALIDATION');
      expect(message.duration).toBeGreaterThanOrEqual(0);
    }
    const ends = trace.seen.filter((s) => s.phase === 'asyncEnd');
    expect(ends.map((s) => s.message.errorCode)).toEqual(['SR_VALIDATION', 'SR_VALIDATION']);
    assertNoSecrets(trace.seen.map((s) => s.message));
  });

  if (backend !== 'memory') {
    test('a corrupt value is reported without the key or the value', async () => {
      await h.raw.client!.set(`sf:{${NS}:lk:${UID}}${SVC}`, `x${POD}`);
      trace = traceOperations();
      const thrown = await h.executor.getLinkedPod(NS, UID, SVC).catch((e: unknown) => e);
      expect(thrown).toBeInstanceOf(CorruptValueError);
      // The caller can still tell which key is corrupt; serialisations do not carry it.
      expect((thrown as CorruptValueError).key).toBe(`sf:{${NS}:lk:${UID}}${SVC}`);
      expect(JSON.stringify(thrown)).not.toContain('SECRET');
      const errors = trace.seen.filter((s) => s.phase === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message.errorCode).toBe('SR_CORRUPT_VALUE');
      expect(errors[0]!.message.errorType).toBe('other');
      assertNoSecrets(trace.seen.map((s) => s.message));
      await h.raw.client!.del(`sf:{${NS}:lk:${UID}}${SVC}`);
    });
  }

  test('a closed executor publishes SR_EXECUTOR_CLOSED as a connection error', async () => {
    const own = await createHarness(backend);
    await own.close();
    trace = traceOperations();
    await expect(own.executor.getLinkService(NS, UID)).rejects.toMatchObject({
      code: 'SR_EXECUTOR_CLOSED',
    });
    const error = trace.seen.find((s) => s.phase === 'error')!;
    expect(error.message.errorCode).toBe('SR_EXECUTOR_CLOSED');
    expect(error.message.errorType).toBe('connection');
  });
});

describe('point events on a Redis of its own', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.stop();
  });

  test('create, script load, NOSCRIPT and close events', async () => {
    const created = listen<ExecutorLifecycleMessage>(CHANNELS.create);
    const loads = listen<ScriptLoadMessage>(CHANNELS.scriptLoad);
    const noscripts = listen<NoscriptMessage>(CHANNELS.noscript);
    const closed = listen<ExecutorLifecycleMessage>(CHANNELS.close);
    const client = new Redis(server.url);
    try {
      const executor = createRedisExecutor({ redis: client, name: 'events' });
      expect(created.seen).toHaveLength(1);
      expect(created.seen[0]!.executor).toBe('events');
      expect(created.seen[0]!.description.topology).toBe('standalone');

      await executor.loadScripts();
      // The six link scripts of the contract and placement's (docs/placement.md).
      const placementScripts = [
        'adopt',
        'allocate',
        'apply',
        'claim',
        'drain',
        'due',
        'link',
        'placement',
        'register',
        'release',
        'release-claim',
        'settle',
        'sweep-list',
        'sweep-release',
        'unlink',
      ].map((name) => `placement-${name}`);
      expect(loads.seen.map((m) => m.script).sort()).toEqual(
        [
          'get-linked-pod-if-persist',
          'remove-linked-pod',
          'remove-linked-pod-with-id',
          'set-linked-pod',
          'set-linked-pod-if-absent',
          'try-set-linked-pod',
          ...placementScripts,
        ].sort(),
      );
      for (const load of loads.seen) {
        expect(load.executor).toBe('events');
        expect(load.sha).toMatch(/^[0-9a-f]{40}$/);
        expect(load.node).toBe(`127.0.0.1:${server.port}`);
        expect(load.durationMs).toBeGreaterThanOrEqual(0);
      }
      expect(executor.stats().scriptsLoaded).toBe(6 + placementScripts.length);

      await client.script('FLUSH');
      await executor.setLinkedPod(NS, UID, SVC, { podId: POD, persistSeconds: 300 });
      expect(noscripts.seen).toEqual([
        {
          executor: 'events',
          script: 'set-linked-pod',
          sha: loads.seen.find((m) => m.script === 'set-linked-pod')!.sha,
        },
      ]);
      expect(executor.stats().noscriptReloads).toBe(1);
      // The EVAL that answered NOSCRIPT cached the script again.
      await executor.setLinkedPod(NS, UID, SVC, { podId: POD, persistSeconds: 300 });
      expect(noscripts.seen).toHaveLength(1);

      await executor.close();
      expect(closed.seen).toHaveLength(1);
      expect(closed.seen[0]!.stats().noscriptReloads).toBe(1);
      assertNoSecrets([...created.seen, ...loads.seen, ...noscripts.seen, ...closed.seen]);
    } finally {
      for (const listener of [created, loads, noscripts, closed]) listener.dispose();
      client.disconnect();
    }
  });

  test('connection events: connect, ready, close, reconnecting, error with its code', async () => {
    const events = listen<ConnectionMessage>(CHANNELS.connection);
    const client = new Redis(server.url, {
      lazyConnect: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    const executor = createRedisExecutor({ redis: client, name: 'conn' });
    try {
      await client.connect();
      await ready(client);
      const states = () => events.seen.filter((m) => m.executor === 'conn').map((m) => m.state);
      expect(states()).toEqual(['connect', 'ready']);
      expect(executor.connected).toBe(true);

      await server.kill();
      await waitFor(() => states().includes('error') && states().includes('reconnecting'));
      expect(states()).toContain('close');
      const error = events.seen.find((m) => m.state === 'error')!;
      expect(error.errorCode).toBe('ECONNREFUSED');
      expect(error.connection).toBe('main');
      expect(executor.connected).toBe(false);
      await expect(executor.getLinkedPod(NS, UID, SVC)).rejects.toMatchObject({
        code: 'SR_REDIS_CONNECTION',
      });
      expect((await executor.checkHealth()).ok).toBe(false);

      await server.restart();
      await waitFor(() => client.status === 'ready');
      expect(states().at(-1)).toBe('ready');
      expect(executor.stats().reconnects).toBeGreaterThan(0);
      expect(await executor.getLinkedPod(NS, UID, SVC)).toBe(-1);
      assertNoSecrets(events.seen);
    } finally {
      events.dispose();
      await executor.close();
      client.disconnect();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
