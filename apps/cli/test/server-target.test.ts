import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HttpBackend } from '../src/backend.js';
import { ServerClient } from '../src/http-client.js';
import { cli } from './helpers.js';
import { startServer, type TestServer } from './server.js';

const redisUrl = inject('redisUrl');
const TOKEN = 'cli-test-token';
let server: TestServer;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  [server] = await Promise.all([startServer({ redisUrl, token: TOKEN })]);
  redis = new Redis(redisUrl);
  dir = await mkdtemp(join(tmpdir(), 'sr-cli-server-'));
});
afterAll(async () => {
  await server?.stop();
  await redis?.quit();
  await rm(dir, { recursive: true, force: true });
});

const target = () => ['--server', server.url, '--token', TOKEN, '--json'];

describe('data commands through a server', () => {
  it('gives the same results as on Redis directly', async () => {
    const ns = uniqueNamespace('cli-http');
    const run = async (argv: string[]) => {
      const result = await cli([...argv, ...target()]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as unknown;
    };
    expect(await run(['link', 'set', ns, 'u1', 'room', '3'])).toEqual({ previous: -1 });
    // Written through the server, read on Redis: the same wire layout.
    expect(await redis.get(`sf:{${ns}:lk:u1}room`)).toBe('3');
    expect(await run(['link', 'get', ns, 'u1', 'room'])).toEqual({ podId: 3 });
    expect(await run(['link', 'get', ns, 'u1', 'room', '--persistent-only'])).toEqual({ podId: 3 });
    expect(await run(['link', 'try', ns, 'u1', 'room', '4'])).toEqual({
      linked: false,
      current: 3,
      previous: -1,
    });
    expect(
      await run(['link', 'set-if-absent', ns, 'u2', 'room', '0', '--persist-seconds', '60']),
    ).toEqual({ podId: 0 });
    expect(await run(['link', 'list', ns, 'u1'])).toEqual({ links: { room: 3 } });
    expect(await run(['link', 'query', ns, 'room', 'u1', 'u2', 'u9'])).toEqual({
      pods: { 0: ['u2'], 3: ['u1'] },
    });
    expect(await run(['link', 'remove', ns, 'u1', 'room', '--pod-id', '9'])).toEqual({
      removed: false,
    });
    expect(await run(['link', 'remove', ns, 'u1', 'room'])).toEqual({ removed: true });
    expect(await run(['state', 'set', ns, 'room', '0', 'READY'])).toMatchObject({ podId: 0 });
    expect(await run(['state', 'get', ns, 'room'])).toEqual({ pods: { 0: 'READY' } });
    expect(await run(['workload', 'set', ns, 'room', 'W1'])).toMatchObject({ state: 'W1' });
    expect(await run(['workload', 'get', ns, 'room'])).toEqual({ state: 'W1' });
    expect(await run(['workload', 'query', ns, 'room', 'lobby'])).toEqual({
      states: { room: 'W1' },
    });
  });

  it('refuses a uid with a brace before any request (exit 2, names the field)', async () => {
    const ns = uniqueNamespace('cli-http');
    const result = await cli(['link', 'set', ns, 'a{b', 'room', '1', ...target()]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toMatchObject({
      error: { code: 'SR_VALIDATION', field: 'uid' },
    });
    expect(await redis.keys(`sf:{${ns}*`)).toEqual([]);
  });

  it('the HTTP backend takes the named options of the executor, and refuses bad ones locally', async () => {
    const ns = uniqueNamespace('cli-http');
    const backend = new HttpBackend(new ServerClient(server.url, TOKEN, 5000));
    expect(await backend.setLinkedPod(ns, 'u1', 'room', { podId: 2, persistSeconds: -1 })).toBe(-1);
    expect(
      await backend.trySetLinkedPod(ns, 'u1', 'room', { podId: 3, persistSeconds: 60 }),
    ).toEqual({ linked: false, current: 2, previous: -1 });
    expect(
      await backend.setLinkedPodIfAbsent(ns, 'u2', 'room', { podId: 4, persistSeconds: 60 }),
    ).toBe(4);
    expect(await backend.removeLinkedPodWithId(ns, 'u2', 'room', { podId: 5 })).toBe(false);
    expect(
      await backend.removeLinkedPodWithId(ns, 'u2', 'room', { podId: 4, keepSeconds: 0 }),
    ).toBe(true);
    // No options at all: keepSeconds has no effect.
    expect(await backend.removeLinkedPod(ns, 'u1', 'room')).toBe(true);
    // Refused before any request: a backend on a closed port answers with SR_VALIDATION, not
    // a connection error.
    const offline = new HttpBackend(new ServerClient('http://127.0.0.1:9', TOKEN, 1000));
    const loose = offline as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const refused = [
      [() => loose.setLinkedPod!.call(offline, ns, 'u1', 'room', 300, 3), 'options', 'type'],
      [
        () => loose.trySetLinkedPod!.call(offline, ns, 'u1', 'room', { podId: 1 }),
        'persistSeconds',
        'required',
      ],
      [
        () =>
          loose.setLinkedPodIfAbsent!.call(offline, ns, 'u1', 'room', {
            podId: 1,
            persistSecond: 3,
          }),
        'persistSecond',
        'unknown-option',
      ],
      [() => loose.removeLinkedPod!.call(offline, ns, 'u1', 'room', 0), 'options', 'type'],
      [() => loose.removeLinkedPodWithId!.call(offline, ns, 'u1', 'room', {}), 'podId', 'required'],
    ] as const;
    for (const [call, field, rule] of refused) {
      await expect(call()).rejects.toMatchObject({ code: 'SR_VALIDATION', field, rule });
    }
    expect(await redis.keys(`sf:{${ns}*`)).toEqual([]);
  });

  it('reports a missing token with the server code and a hint', async () => {
    const result = await cli(['state', 'get', 'ns', 'room', '--server', server.url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/401|token/i);
  });

  it('maps an unreachable server to exit 3', async () => {
    const result = await cli(['state', 'get', 'ns', 'room', '--server', 'http://127.0.0.1:9']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('cannot reach the server at http://127.0.0.1:9');
  });

  it('takes the server and token from the environment', async () => {
    const result = await cli(['link', 'get', 'ns', 'nobody', 'room', '--json'], {
      env: { STATEFUL_ROUTE_SERVER: server.url, STATEFUL_ROUTE_TOKEN: TOKEN },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ podId: -1 });
  });
});

describe('analyze', () => {
  it("scrapes the server's /metrics twice and prints per-operation rates", async () => {
    const ns = uniqueNamespace('cli-analyze');
    const out = join(dir, 'live.json');
    const analysis = cli([
      'analyze',
      '--url',
      `${server.url}/metrics`,
      '--duration',
      '1500ms',
      '--out',
      out,
      '--json',
    ]);
    // Traffic between the two scrapes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 20; i++) {
      await cli(['link', 'set', ns, `u${i}`, 'room', '1', ...target()]);
    }
    const result = await analysis;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const snapshot = JSON.parse(result.stdout) as {
      source: string;
      operations: Record<string, { count: number; latency: { estimated: boolean } }>;
    };
    expect(snapshot.source).toBe('exposition');
    expect(snapshot.operations['setLinkedPod']?.count).toBe(20);
    expect(snapshot.operations['setLinkedPod']?.latency.estimated).toBe(true);
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(snapshot);

    const table = await cli(['analyze', '--server', server.url, '--duration', '200ms']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('/metrics over');
  });

  it('exits 3 when the metrics URL is unreachable and 2 without a URL', async () => {
    expect(
      (await cli(['analyze', '--url', 'http://127.0.0.1:9/metrics', '--duration', '100ms'])).code,
    ).toBe(3);
    expect((await cli(['analyze', '--duration', '100ms'])).code).toBe(2);
  });
});

describe('report and doctor on a server', () => {
  it('fetches the live report in every format', async () => {
    const ns = uniqueNamespace('cli-report');
    await cli(['link', 'set', ns, 'u1', 'room', '1', ...target()]);
    for (const format of ['text', 'markdown', 'html', 'json'] as const) {
      const result = await cli([
        'report',
        '--server',
        server.url,
        '--token',
        TOKEN,
        '--format',
        format,
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('setLinkedPod');
      if (format === 'json') JSON.parse(result.stdout);
      if (format === 'html') expect(result.stdout.toLowerCase()).toContain('<html');
    }
  });

  it('judges the server: ready, scripts, and the findings on its live traffic', async () => {
    const result = await cli(['doctor', ...target()]);
    expect(result.stderr).toBe('');
    const json = JSON.parse(result.stdout) as {
      source: string;
      target: string;
      checks: { id: string; status: string; value: string }[];
      findings: { severity: string }[];
    };
    expect(json.source).toBe(server.url);
    expect(json.target).toBe('server');
    expect(json.checks[0]).toMatchObject({ id: 'ready', status: 'ok' });
    expect(json.checks[0]!.value).toMatch(/^ready, backend redis/);
    expect(json.checks.map((c) => c.id)).toContain('scripts');
    // One check per finding of the server's optimizer, a failure for each critical one.
    const traffic = json.checks.filter((c) => c.id.startsWith('traffic'));
    expect(traffic.length).toBe(Math.max(1, json.findings.length));
    const failed = json.checks.some((c) => c.status === 'fail');
    expect(failed).toBe(json.findings.some((f) => f.severity === 'critical'));
    expect(result.code).toBe(failed ? 1 : 0);
  });
});
