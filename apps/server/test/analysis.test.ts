/**
 * The analysis routes: `/v1/report` in every format, `/v1/optimizations`, and
 * `/v1/optimizations/apply` turning an unoptimised Redis executor (EVAL transport) into an
 * optimised one.
 */
import { createRedisExecutor, type RedisExecutor } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { describe, expect, inject, test } from 'vitest';
import { buildApp } from '../src/index.js';

const TOKEN = 'analysis-test-token';
const headers = { authorization: `Bearer ${TOKEN}` };

describe('/v1/report', () => {
  test('renders the live snapshot as json, text, markdown and html', async () => {
    const app = await buildApp({ config: { logLevel: 'silent', token: TOKEN } });
    for (let i = 0; i < 25; i++) {
      await app.inject({
        method: 'PUT',
        url: `/v1/namespaces/report/users/u${i}/links/room`,
        payload: { podId: i % 4, persistSeconds: 60, mode: 'if-absent' },
        headers,
      });
    }
    await app.inject({ url: '/v1/namespaces/report/services/room/pods', headers });

    const json = await app.inject({ url: '/v1/report?format=json', headers });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    const report = json.json();
    expect(report.reportSchemaVersion).toBe(1);
    expect(report.snapshot.operations.setLinkedPodIfAbsent.count).toBe(25);
    expect(report.snapshot.operations.getServiceState.count).toBe(1);
    expect((await app.inject({ url: '/v1/report', headers })).json().reportSchemaVersion).toBe(1);

    const expected = {
      text: 'text/plain; charset=utf-8',
      markdown: 'text/markdown; charset=utf-8',
      html: 'text/html; charset=utf-8',
    };
    for (const [format, type] of Object.entries(expected)) {
      const reply = await app.inject({ url: `/v1/report?format=${format}`, headers });
      expect(reply.statusCode, format).toBe(200);
      expect(reply.headers['content-type']).toBe(type);
      expect(reply.body).toContain('setLinkedPodIfAbsent');
    }
    const html = await app.inject({ url: '/v1/report?format=html&scope=window', headers });
    expect(html.body.startsWith('<!doctype html>')).toBe(true);
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");

    const bad = await app.inject({ url: '/v1/report?format=pdf', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'SR_VALIDATION', field: 'format' });
    expect((await app.inject({ url: '/v1/report?scope=year', headers })).json().error.field).toBe(
      'scope',
    );
    expect((await app.inject('/v1/report')).statusCode).toBe(401);
    await app.close();
  });
});

describe('/v1/optimizations', () => {
  test('memory backend: findings as data; apply skips (nothing to tune); auth; bad input', async () => {
    const app = await buildApp({ config: { logLevel: 'silent', token: TOKEN } });
    const findings = await app.inject({ url: '/v1/optimizations', headers });
    expect(findings.statusCode).toBe(200);
    expect(Array.isArray(findings.json().findings)).toBe(true);
    const bare = await app.inject({ method: 'POST', url: '/v1/optimizations/apply', headers });
    expect(bare.statusCode).toBe(200);
    expect(bare.json().applied.every((a: { outcome: string }) => a.outcome === 'skipped')).toBe(
      true,
    );
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/optimizations/apply',
      payload: { only: ['make-it-fast'] },
      headers,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'SR_VALIDATION', field: 'only[0]' });
    expect((await app.inject('/v1/optimizations')).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/optimizations/apply' })).statusCode).toBe(
      401,
    );
    await app.close();
  });

  test('Redis on the EVAL transport: a script-transport finding, and apply switches to EVALSHA', async () => {
    const redis = new Redis(inject('redisUrl'));
    const executor: RedisExecutor = createRedisExecutor({
      redis,
      name: 'unoptimised',
      scriptTransport: 'eval',
    });
    const app = await buildApp({
      config: { logLevel: 'silent' },
      executor,
      redis,
      closeExecutor: true,
    });
    const ns = uniqueNamespace('optimize');
    for (let i = 0; i < 60; i++) {
      await app.inject({
        method: 'PUT',
        url: `/v1/namespaces/${ns}/users/u${i}/links/room`,
        payload: { podId: 1, persistSeconds: 60, mode: 'if-absent' },
      });
    }
    const before = (await app.inject('/v1/optimizations')).json() as {
      findings: { id: string; action?: { id: string; safe: boolean }; evidence: unknown[] }[];
    };
    const transport = before.findings.find((f) => f.id === 'script-transport');
    expect(transport?.action).toMatchObject({ id: 'preload-scripts', safe: true });
    expect(transport?.evidence.length).toBeGreaterThan(0);

    const applied = await app.inject({
      method: 'POST',
      url: '/v1/optimizations/apply',
      payload: { only: ['preload-scripts'] },
    });
    expect(applied.statusCode).toBe(200);
    expect(applied.json().applied).toEqual([
      expect.objectContaining({
        id: 'preload-scripts',
        finding: 'script-transport',
        outcome: 'applied',
      }),
    ]);
    expect(executor.scriptTransport).toBe('evalsha');
    const stats = executor.stats();
    await app.inject({ url: `/v1/namespaces/${ns}/users/u1/links/room?persistentOnly=true` });
    expect(executor.stats().scriptCallsBySha).toBe(stats.scriptCallsBySha + 1);
    await app.close();
  });
});
