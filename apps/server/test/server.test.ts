/**
 * App-level behaviour on the memory backend and with injected executors: metrics, OpenAPI,
 * health, error statuses of backend failures, logs without secrets, graceful close.
 */
import { Writable } from 'node:stream';
import {
  AuthError,
  createMemoryExecutor,
  ErrorCodes,
  RedisReplyError,
  TimeoutError,
  ConnectionError,
} from '@stateful-route/executor-core';
import { describe, expect, test } from 'vitest';
import { buildApp } from '../src/index.js';
import { parseExposition, sampleValue } from './helpers/exposition.js';

const TOKEN = 'server-test-token-1';
const METRICS_TOKEN = 'metrics-test-token-2';

describe('/metrics', () => {
  test('exposition with its content type; counters and HTTP histogram move; route templates only', async () => {
    const app = await buildApp({ config: { logLevel: 'silent' } });
    const url = '/v1/namespaces/ns/users/secret-user-42/links/room';
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({
        method: 'PUT',
        url,
        payload: { podId: 2, persistSeconds: 60, mode: 'if-absent' },
      });
      expect(r.json()).toEqual({ podId: 2 });
    }
    await app.inject({ method: 'PUT', url, payload: { podId: 2, persistSeconds: 0, mode: 'set' } });
    await app.inject({ method: 'GET', url: '/v1/nowhere/secret-user-42' });
    const reply = await app.inject('/metrics');
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseExposition(reply.body);
    expect(
      sampleValue(samples, 'stateful_executor_operations_total', {
        operation: 'setLinkedPodIfAbsent',
        status: 'success',
      }),
    ).toBe(3);
    expect(
      sampleValue(samples, 'stateful_executor_operations_total', {
        operation: 'setLinkedPod',
        status: 'error',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'stateful_executor_errors_total', {
        operation: 'setLinkedPod',
        error_type: 'validation',
      }),
    ).toBe(1);
    const route = '/v1/namespaces/:ns/users/:uid/links/:svc';
    expect(
      sampleValue(samples, 'http_request_duration_seconds_count', {
        method: 'PUT',
        route,
        status_code: '200',
      }),
    ).toBe(3);
    expect(
      sampleValue(samples, 'http_request_duration_seconds_count', {
        method: 'PUT',
        route,
        status_code: '400',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'http_request_duration_seconds_bucket', {
        method: 'PUT',
        route,
        status_code: '200',
        le: '+Inf',
      }),
    ).toBe(3);
    // Ids never become label values.
    expect(reply.body).not.toContain('secret-user-42');
    await app.close();
  });

  test('open by default; a metrics token protects /metrics only, not health or /v1', async () => {
    const app = await buildApp({ config: { logLevel: 'silent', metricsToken: METRICS_TOKEN } });
    expect((await app.inject('/metrics')).statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } }))
        .statusCode,
    ).toBe(401);
    const ok = await app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('# TYPE http_request_duration_seconds histogram');
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect((await app.inject('/v1/namespaces/ns/users/u/links')).statusCode).toBe(200);
    await app.close();
  });

  test('the registry is the one given, never the global one', async () => {
    const { Registry, register } = await import('prom-client');
    const registry = new Registry();
    const app = await buildApp({ config: { logLevel: 'silent' }, registry });
    await app.inject('/healthz');
    expect(await registry.getSingleMetricAsString('http_request_duration_seconds')).toContain(
      '/healthz',
    );
    expect(register.getSingleMetric('http_request_duration_seconds')).toBeUndefined();
    await app.close();
  });
});

describe('start-up failures', () => {
  test('a registry that already has the metrics: buildApp rejects and releases the executor', async () => {
    const { Registry, Counter } = await import('prom-client');
    const registry = new Registry();
    new Counter({ name: 'http_request_duration_seconds', help: 'taken', registers: [registry] });
    const executor = createMemoryExecutor();
    await expect(
      buildApp({ config: { logLevel: 'silent' }, executor, registry, closeExecutor: true }),
    ).rejects.toThrow(/http_request_duration_seconds/);
    expect((await executor.checkHealth()).ok).toBe(false);
  });
});

describe('health', () => {
  test('/healthz and /readyz on memory; /readyz 503 once the executor is closed', async () => {
    const executor = createMemoryExecutor();
    const app = await buildApp({ config: { logLevel: 'silent' }, executor });
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({
      status: 'ok',
      backend: 'memory',
      latencyMs: 0,
      scriptsLoaded: true,
    });
    await executor.close();
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', reason: 'executor closed' });
    const call = await app.inject('/v1/namespaces/ns/users/u/links');
    expect(call.statusCode).toBe(503);
    expect(call.json().error.code).toBe('SR_EXECUTOR_CLOSED');
    await app.close();
  });
});

describe('backend failures map to statuses', () => {
  test.each([
    [new TimeoutError('Redis did not answer within 1000 ms'), 503, 'SR_REDIS_TIMEOUT'],
    [new ConnectionError('connection refused'), 503, 'SR_REDIS_CONNECTION'],
    [new AuthError('NOAUTH', 'Redis requires authentication'), 503, 'SR_REDIS_AUTH'],
    [
      new RedisReplyError(ErrorCodes.CLUSTER, 'CLUSTERDOWN', 'cluster down'),
      503,
      'SR_REDIS_CLUSTER',
    ],
    [new RedisReplyError(ErrorCodes.BUSY, 'LOADING', 'loading'), 503, 'SR_REDIS_BUSY'],
    [new RedisReplyError(ErrorCodes.OUT_OF_MEMORY, 'OOM', 'out of memory'), 507, 'SR_REDIS_OOM'],
    [new RedisReplyError(ErrorCodes.COMMAND, 'WRONGTYPE', 'wrong type'), 500, 'SR_REDIS_COMMAND'],
    [new Error('boom with /internal/path'), 500, 'SR_INTERNAL'],
  ])('%s -> %i %s', async (error, status, code) => {
    const executor = createMemoryExecutor();
    executor.setLinkedPod = async () => {
      throw error;
    };
    const app = await buildApp({ config: { logLevel: 'silent' }, executor });
    const reply = await app.inject({
      method: 'PUT',
      url: '/v1/namespaces/ns/users/u/links/room',
      payload: { podId: 1, persistSeconds: -1, mode: 'set' },
    });
    expect(reply.statusCode).toBe(status);
    expect(reply.json().error.code).toBe(code);
    expect(reply.body).not.toContain('/internal/path');
    expect(reply.body).not.toMatch(/\bat /);
    if (status === 503) expect(reply.headers['retry-after']).toBe('1');
    await app.close();
  });
});

describe('logs', () => {
  test('never contain the token, even at trace level; errors are logged with their stack', async () => {
    let logs = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const executor = createMemoryExecutor();
    executor.getLinkService = async () => {
      throw new Error('unexpected failure');
    };
    const app = await buildApp({
      config: { logLevel: 'trace', token: TOKEN, metricsToken: METRICS_TOKEN },
      executor,
      logStream: stream,
    });
    const headers = { authorization: `Bearer ${TOKEN}` };
    await app.inject({ url: '/v1/namespaces/ns/users/u/links/room', headers });
    await app.inject({
      url: '/v1/namespaces/ns/users/u/links/room',
      headers: { authorization: `Bearer ${TOKEN}-wrong` },
    });
    await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const failed = await app.inject({ url: '/v1/namespaces/ns/users/u/links', headers });
    expect(failed.statusCode).toBe(500);
    await app.close();
    expect(logs).toContain('request completed');
    expect(logs).toContain('unexpected failure'); // the stack goes to the log...
    expect(failed.body).not.toContain('unexpected failure'); // ...not to the client
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(METRICS_TOKEN);
    const lines = logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => typeof line.reqId === 'string')).toBe(true);
    expect(lines.find((line) => String(line.msg).startsWith('backend: '))?.msg).toContain(
      'embedded in-memory backend',
    );
  });

  test('at the default level a successful request writes no log line', async () => {
    let logs = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const app = await buildApp({ config: { logLevel: 'info' }, logStream: stream });
    const before = logs.length;
    await app.inject('/v1/namespaces/ns/users/u/links/room');
    expect(logs.slice(before)).toBe('');
    await app.close();
  });
});

describe('OpenAPI', () => {
  test('lists every route with its parameters, bodies, replies and security', async () => {
    const app = await buildApp({ config: { logLevel: 'silent', token: TOKEN } });
    const reply = await app.inject('/docs/openapi.json');
    expect(reply.statusCode).toBe(200);
    const doc = reply.json();
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(
      doc.paths as Record<string, Record<string, { operationId: string }>>,
    )
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([m, op]) => `${m.toUpperCase()} ${path} ${op.operationId}`),
      )
      .sort();
    expect(operations).toEqual(
      [
        'PUT /v1/namespaces/{ns}/services/{svc}/pods/{podId}/state setServiceState',
        'GET /v1/namespaces/{ns}/services/{svc}/pods getServiceState',
        'PUT /v1/namespaces/{ns}/services/{svc}/workload setWorkloadState',
        'GET /v1/namespaces/{ns}/services/{svc}/workload getWorkloadState',
        'POST /v1/namespaces/{ns}/workloads/query getWorkloadStateBatch',
        'PUT /v1/namespaces/{ns}/users/{uid}/links/{svc} writeLink',
        'GET /v1/namespaces/{ns}/users/{uid}/links/{svc} getLinkedPod',
        'DELETE /v1/namespaces/{ns}/users/{uid}/links/{svc} removeLinkedPod',
        'GET /v1/namespaces/{ns}/users/{uid}/links getLinkService',
        'POST /v1/namespaces/{ns}/services/{svc}/links/query batchGetLinkedPod',
        'PUT /v1/namespaces/{ns}/services/{svc}/pods/{podId}/registration registerPod',
        'POST /v1/namespaces/{ns}/services/{svc}/pods/{podId}/drain drainPod',
        'DELETE /v1/namespaces/{ns}/services/{svc}/pods/{podId}/drain undrainPod',
        'POST /v1/namespaces/{ns}/services/{svc}/allocations allocate',
        'DELETE /v1/namespaces/{ns}/services/{svc}/allocations/{uid} release',
        'GET /v1/namespaces/{ns}/services/{svc}/placement placement',
        'POST /v1/namespaces/{ns}/services/{svc}/sweep sweepDeadPods',
        'POST /v1/namespaces/{ns}/services/{svc}/reconcile reconcilePlacement',
        'GET /v1/report report',
        'GET /v1/optimizations getOptimizations',
        'POST /v1/optimizations/apply applyOptimizations',
        'GET /metrics metrics',
        'GET /healthz healthz',
        'GET /readyz readyz',
        'GET /docs/openapi.json openapi',
      ].sort(),
    );
    const link = doc.paths['/v1/namespaces/{ns}/users/{uid}/links/{svc}'];
    expect(link.put.security).toEqual([{ bearer: [] }]);
    expect(link.put.requestBody.content['application/json'].schema.required).toEqual([
      'podId',
      'persistSeconds',
      'mode',
    ]);
    expect(
      link.delete.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
    ).toEqual(['path:ns', 'path:uid', 'path:svc', 'query:keepSeconds', 'query:podId']);
    expect(Object.keys(link.put.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '413',
      '415',
      '4XX',
      '500',
      '503',
      '507',
    ]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/metrics'].get.security).toEqual([]);
    await app.close();
  });
});

describe('graceful close', () => {
  test('an in-flight request finishes; new connections are refused; the executor is closed', async () => {
    const executor = createMemoryExecutor();
    const get = executor.getLinkedPod.bind(executor);
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    executor.getLinkedPod = async (...args) => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return get(...args);
    };
    const app = await buildApp({ config: { logLevel: 'silent' }, executor, closeExecutor: true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const pending = fetch(`http://127.0.0.1:${port}/v1/namespaces/ns/users/u/links/room`);
    await inHandler;
    const closing = app.close();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ podId: -1 });
    await closing;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect((await executor.checkHealth()).ok).toBe(false);
  });
});
