/**
 * The built server as a real process on a free port against a real Redis: drive it with
 * fetch, read /metrics, check that the operation counters and histograms moved by exactly
 * what was sent, then SIGTERM and a clean exit 0.
 */
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { afterAll, expect, inject, test } from 'vitest';
import { startBuiltServer, type BuiltServer } from './helpers/built-server.js';
import { parseExposition, sampleValue, type Sample } from './helpers/exposition.js';

const TOKEN = 'smoke-test-token-9';
const METRICS_TOKEN = 'smoke-metrics-token-8';

let server: BuiltServer | undefined;

afterAll(async () => {
  if (server && server.child.exitCode === null) await server.stop('SIGKILL');
});

test('serves, counts, and shuts down cleanly on SIGTERM', async () => {
  const port = await freePort();
  server = await startBuiltServer(
    ['--port', String(port), '--log-level', 'info'],
    {
      REDIS_URL: inject('redisUrl'),
      STATEFUL_ROUTE_TOKEN: TOKEN,
      STATEFUL_ROUTE_METRICS_TOKEN: METRICS_TOKEN,
    },
    port,
  );
  const { url } = server;
  const ns = uniqueNamespace('smoke');
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const scrape = async (): Promise<Sample[]> => {
    const response = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parseExposition(await response.text());
  };

  expect((await fetch(`${url}/metrics`)).status).toBe(401);
  const ready = await fetch(`${url}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ status: 'ok', backend: 'redis', scriptsLoaded: true });

  const before = await scrape();

  const linkUrl = (uid: string) => `${url}/v1/namespaces/${ns}/users/${uid}/links/room`;
  for (let i = 0; i < 5; i++) {
    const response = await fetch(linkUrl(`u${i}`), {
      method: 'PUT',
      headers,
      body: JSON.stringify({ podId: i, persistSeconds: 300, mode: 'if-absent' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ podId: i });
  }
  for (let i = 0; i < 3; i++) {
    const response = await fetch(linkUrl(`u${i}`), { headers });
    expect(await response.json()).toEqual({ podId: i });
  }
  const state = await fetch(`${url}/v1/namespaces/${ns}/services/room/pods/0/state`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ state: 'READY' }),
  });
  expect(state.status).toBe(204);
  // Refused by the executor's rules (persistSeconds 0): an operation error of type validation.
  const bad = await fetch(linkUrl('u9'), {
    method: 'PUT',
    headers,
    body: JSON.stringify({ podId: 1, persistSeconds: 0, mode: 'set' }),
  });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({
    error: { code: 'SR_VALIDATION', field: 'persistSeconds' },
  });
  // Refused by auth: never reaches the executor.
  expect((await fetch(linkUrl('u9'), { headers: {} })).status).toBe(401);

  const after = await scrape();
  const delta = (name: string, labels: Record<string, string>) =>
    sampleValue(after, name, labels) - sampleValue(before, name, labels);

  const ops = 'stateful_executor_operations_total';
  expect(delta(ops, { operation: 'setLinkedPodIfAbsent', status: 'success' })).toBe(5);
  expect(delta(ops, { operation: 'getLinkedPod', status: 'success' })).toBe(3);
  expect(delta(ops, { operation: 'setServiceState', status: 'success' })).toBe(1);
  expect(delta(ops, { operation: 'setLinkedPod', status: 'error' })).toBe(1);
  expect(delta(ops, { operation: 'setLinkedPod', status: 'success' })).toBe(0);
  expect(delta(ops, {})).toBe(10);
  expect(
    delta('stateful_executor_errors_total', {
      operation: 'setLinkedPod',
      error_type: 'validation',
    }),
  ).toBe(1);

  const hist = 'stateful_executor_operation_duration_seconds';
  expect(delta(`${hist}_count`, { operation: 'setLinkedPodIfAbsent' })).toBe(5);
  expect(delta(`${hist}_count`, { operation: 'getLinkedPod' })).toBe(3);
  expect(delta(`${hist}_bucket`, { operation: 'setLinkedPodIfAbsent', le: '+Inf' })).toBe(5);
  expect(delta(`${hist}_sum`, { operation: 'setLinkedPodIfAbsent' })).toBeGreaterThan(0);
  expect(delta(`${hist}_sum`, { operation: 'setLinkedPodIfAbsent' })).toBeLessThan(5);
  // Buckets are cumulative: non-decreasing in le, ending at the count.
  const buckets = after
    .filter((s) => s.name === `${hist}_bucket` && s.labels.operation === 'getLinkedPod')
    .map((s) => s.value);
  expect(buckets.length).toBeGreaterThan(5);
  expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);

  const route = '/v1/namespaces/:ns/users/:uid/links/:svc';
  const http = 'http_request_duration_seconds_count';
  expect(delta(http, { method: 'PUT', route, status_code: '200' })).toBe(5);
  expect(delta(http, { method: 'GET', route, status_code: '200' })).toBe(3);
  expect(delta(http, { method: 'PUT', route, status_code: '400' })).toBe(1);
  expect(delta(http, { method: 'GET', route, status_code: '401' })).toBe(1);
  expect(
    sampleValue(after, 'stateful_executor_redis_connection_status', { status: 'ready' }),
  ).toBeGreaterThanOrEqual(1);
  expect(sampleValue(after, 'stateful_executor_cache_hit_ratio', { cache_type: 'script' })).toBe(1);

  const { code, signal } = await server.stop('SIGTERM');
  expect(signal).toBeNull();
  expect(code).toBe(0);
  const output = server.output();
  expect(output).toContain('Redis standalone at redis://127.0.0.1');
  expect(output).toContain('shut down cleanly');
  expect(output).not.toContain(TOKEN);
  expect(output).not.toContain(METRICS_TOKEN);
});

test('a bad configuration exits with code 2 and says why', async () => {
  const port = await freePort();
  await expect(
    startBuiltServer(['--port', String(port), '--max-batch', 'lots'], {}, port),
  ).rejects.toThrow(/exited with 2:\n.*--max-batch: must be a decimal integer/);
});
