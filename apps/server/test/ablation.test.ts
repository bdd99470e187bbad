// buildApp's `without` (the benchmark's ablation only): each switch really leaves its feature
// out, the full app keeps it, and an unknown feature is refused before anything is built.
import { afterEach, expect, test } from 'vitest';
import { buildApp, type BuildAppOptions } from '../src/app.js';
import { ConfigError } from '../src/errors.js';

const TOKEN = 'ablation-token-0123';
const LINK = '/v1/namespaces/ns/users/u1/links/room';
const apps: Awaited<ReturnType<typeof buildApp>>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function app(without: BuildAppOptions['without']) {
  const built = await buildApp({ config: { logLevel: 'silent', token: TOKEN }, without });
  apps.push(built);
  return built;
}

const auth = { authorization: `Bearer ${TOKEN}` };

test('the full app: auth, validation, request ids and both metric families', async () => {
  const full = await app([]);
  expect((await full.inject({ method: 'GET', url: LINK })).statusCode).toBe(401);
  const bad = await full.inject({
    method: 'GET',
    url: `${LINK}?persistentOnly=maybe`,
    headers: auth,
  });
  expect(bad.statusCode).toBe(400);
  const ok = await full.inject({ method: 'GET', url: LINK, headers: auth });
  expect(ok.json()).toEqual({ podId: -1 });
  expect(ok.headers['x-request-id']).toEqual(expect.any(String));
  const metrics = (await full.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toContain('http_request_duration_seconds_bucket');
  expect(metrics).toMatch(/^stateful_route_/m);
  expect(Object.keys(full.statefulRoute.analyzer.snapshot().operations)).not.toEqual([]);
});

test('each feature left out is gone, and only it', async () => {
  const noAuth = await app(['auth']);
  expect((await noAuth.inject({ method: 'GET', url: LINK })).json()).toEqual({ podId: -1 });

  const noValidation = await app(['validation']);
  const loose = await noValidation.inject({
    method: 'GET',
    url: `${LINK}?persistentOnly=maybe`,
    headers: auth,
  });
  expect(loose.statusCode).toBe(200);
  expect((await noValidation.inject({ method: 'GET', url: LINK })).statusCode).toBe(401);

  const noIds = await app(['request-id']);
  const reply = await noIds.inject({ method: 'GET', url: LINK, headers: auth });
  expect(reply.statusCode).toBe(200);
  expect(reply.headers['x-request-id']).toBeUndefined();

  const noHttpMetrics = await app(['http-metrics']);
  await noHttpMetrics.inject({ method: 'GET', url: LINK, headers: auth });
  const withoutHttp = (await noHttpMetrics.inject({ method: 'GET', url: '/metrics' })).body;
  expect(withoutHttp).not.toContain('http_request_duration_seconds');
  expect(withoutHttp).toMatch(/^stateful_route_/m);

  const noExecutorMetrics = await app(['executor-metrics']);
  await noExecutorMetrics.inject({ method: 'GET', url: LINK, headers: auth });
  const withoutExecutor = (await noExecutorMetrics.inject({ method: 'GET', url: '/metrics' })).body;
  expect(withoutExecutor).toContain('http_request_duration_seconds_bucket');
  // Only the server's own counter of the placement sweeper keeps the prefix.
  const prefixed = new Set(withoutExecutor.match(/^stateful_route_\w+/gm) ?? []);
  expect([...prefixed]).toEqual(['stateful_route_placement_sweeper_failures_total']);

  const noAnalyzer = await app(['analyzer']);
  await noAnalyzer.inject({ method: 'GET', url: LINK, headers: auth });
  expect(noAnalyzer.statefulRoute.analyzer.snapshot().operations).toEqual({});
});

test('an unknown feature is a ConfigError', async () => {
  await expect(
    buildApp({ config: { logLevel: 'silent' }, without: ['cache' as never] }),
  ).rejects.toBeInstanceOf(ConfigError);
});
