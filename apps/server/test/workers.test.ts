/**
 * Issue 14, `--workers N`: the BUILT bin as a node:cluster primary with real worker processes
 * on a real Redis. Requests over fresh connections land on every worker, `/metrics` on any
 * worker answers for all of them, a worker that dies is restarted, a worker that does not
 * answer fails the scrape with 503, workers that cannot start stop the primary, and SIGTERM
 * stops everything with exit code 0. Issue 17: only one worker runs the placement sweeper.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_METRIC_PREFIX,
  EXECUTOR_METRICS,
  type ExecutorMetric,
} from '@stateful-route/executor-core';
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { GAUGE_AGGREGATION } from '../src/cluster-metrics.js';
import { buildApp } from '../src/index.js';
import { START_FAILURE_LIMIT } from '../src/workers.js';
import { parseExposition, sampleValue } from './helpers/exposition.js';
import { MAIN, ROOT, startBuiltServer, type BuiltServer } from './helpers/built-server.js';

const servers: BuiltServer[] = [];
const others: ChildProcess[] = [];
const stoppedPids: number[] = [];

afterEach(async () => {
  for (const pid of stoppedPids.splice(0)) signal(pid, 'SIGCONT');
  for (const server of servers.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null)
      await server.stop('SIGKILL');
  }
  for (const child of others.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

interface LogLine {
  pid: number;
  msg: string;
  worker?: number;
  workerPid?: number;
  req?: { method: string; url: string };
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** The pid of each serving worker, by slot, once `count` of them serve. */
async function servingWorkers(
  server: BuiltServer,
  count: number,
  since = 0,
): Promise<Map<number, number>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const serving = new Map<number, number>();
    for (const line of logLines(server.output()).slice(since))
      if (line.msg === `worker ${line.worker} serving`) serving.set(line.worker!, line.workerPid!);
    if (serving.size >= count) return serving;
    if (Date.now() > deadline)
      throw new Error(`${count} workers did not serve within 30 s:\n${server.output()}`);
    await sleep(50);
  }
}

/** Waits until `count` log lines match (pino writes them asynchronously). */
async function logged(
  server: BuiltServer,
  match: (line: LogLine) => boolean,
  count: number,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (logLines(server.output()).filter(match).length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} such log lines in 10 s`);
    await sleep(20);
  }
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a connection of its own (no keep-alive pool), as a new client makes it. */
function send(url: string, method = 'GET', body?: unknown, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      url,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function startWorkers(
  count: number,
  extra: string[] = [],
): Promise<{ server: BuiltServer; workers: Map<number, number> }> {
  const port = await freePort();
  const server = await startBuiltServer(
    ['--port', String(port), '--workers', String(count), '--redis', inject('redisUrl'), ...extra],
    {},
    port,
  );
  servers.push(server);
  return { server, workers: await servingWorkers(server, count) };
}

const ROUTE = '/v1/namespaces/:ns/users/:uid/links/:svc';

describe('issue 14: --workers N', () => {
  test('issue 14: two workers share the port, each serves fresh connections, /metrics on either sums both, and SIGTERM stops all with exit code 0', async () => {
    const { server, workers } = await startWorkers(2, ['--log-level', 'debug']);
    const pids = [...workers.values()];
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(server.child.pid);

    const ns = uniqueNamespace('workers');
    const users = 12;
    for (let i = 0; i < users; i++) {
      const put = await send(`${server.url}/v1/namespaces/${ns}/users/u${i}/links/room`, 'PUT', {
        podId: i + 1,
        persistSeconds: 60,
        mode: 'set',
      });
      expect(put.status, put.body).toBe(200);
    }
    // Any worker reads what any other wrote: they share Redis.
    for (let i = 0; i < users; i++) {
      const get = await send(`${server.url}/v1/namespaces/${ns}/users/u${i}/links/room`);
      expect(JSON.parse(get.body)).toEqual({ podId: i + 1 });
    }

    // Who served what: each worker's own debug lines carry its pid (written asynchronously:
    // wait for all of them).
    const ours = (line: LogLine) =>
      line.msg === 'incoming request' && line.req!.url.includes(`/namespaces/${ns}/`);
    await logged(server, ours, 2 * users);
    const served = new Map<number, number>();
    for (const line of logLines(server.output()))
      if (ours(line)) served.set(line.pid, (served.get(line.pid) ?? 0) + 1);
    expect([...served.keys()].sort()).toEqual([...pids].sort());
    expect([...served.values()].reduce((a, b) => a + b, 0)).toBe(2 * users);

    const scrapers = new Set<number>();
    for (let scrape = 0; scrape < 6; scrape++) {
      const reply = await send(`${server.url}/metrics`);
      expect(reply.status, reply.body).toBe(200);
      expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const samples = parseExposition(reply.body);
      const http = (method: string) =>
        sampleValue(samples, 'http_request_duration_seconds_count', {
          method,
          route: ROUTE,
          status_code: '200',
        });
      expect(http('PUT')).toBe(users);
      expect(http('GET')).toBe(users);
      const operations = (operation: string) =>
        sampleValue(samples, 'stateful_executor_operations_total', {
          operation,
          status: 'success',
        });
      expect(operations('setLinkedPod')).toBe(users);
      expect(operations('getLinkedPod')).toBe(users);
      // prom-client's aggregators: one version sample, start times omitted, a ratio averaged.
      expect(samples.filter((s) => s.name === 'nodejs_version_info')).toHaveLength(1);
      expect(samples.some((s) => s.name === 'process_start_time_seconds')).toBe(false);
      for (const s of samples.filter((s) => s.name === 'stateful_executor_cache_hit_ratio'))
        expect(s.value).toBeLessThanOrEqual(1);
    }
    const scrape = (line: LogLine) =>
      line.msg === 'incoming request' && line.req!.url === '/metrics';
    await logged(server, scrape, 6);
    for (const line of logLines(server.output())) if (scrape(line)) scrapers.add(line.pid);
    // Every worker answered some scrapes, and each answer held both workers' counts.
    expect([...scrapers].sort()).toEqual([...pids].sort());

    const { code } = await server.stop('SIGTERM');
    expect(code, server.output()).toBe(0);
    for (const pid of pids) expect(alive(pid), `worker ${pid} still running`).toBe(false);
    expect(server.output()).toContain('all workers stopped: shut down cleanly');
  }, 90_000);

  test('issue 14: a worker killed is restarted with a new pid; a worker that does not hand over its metrics makes /metrics 503 SR_METRICS_UNAVAILABLE, not a hang', async () => {
    const { server, workers } = await startWorkers(2);
    const killed = workers.get(1)!;
    const lines = logLines(server.output()).length;
    process.kill(killed, 'SIGKILL');
    const after = await servingWorkers(server, 1, lines);
    const restarted = after.get(1)!;
    expect(restarted).not.toBe(killed);
    expect(alive(restarted)).toBe(true);
    expect(server.output()).toMatch(
      /worker 1 exited unexpectedly with signal SIGKILL; restarting it in \d+ ms/,
    );
    expect((await send(`${server.url}/metrics`)).status).toBe(200);

    // A stopped worker cannot answer the primary. A connection handed to it waits with it,
    // so try a few: the primary hands new connections to the worker that still takes them.
    const frozen = workers.get(2)!;
    process.kill(frozen, 'SIGSTOP');
    stoppedPids.push(frozen);
    let refused: Reply | undefined;
    for (let attempt = 0; attempt < 3 && !refused; attempt++) {
      try {
        const reply = await send(`${server.url}/metrics`, 'GET', undefined, 9000);
        expect(reply.status).toBe(503);
        refused = reply;
      } catch {
        // this connection went to the stopped worker
      }
    }
    expect(refused, 'a 503 from the worker still running').toBeDefined();
    expect(JSON.parse(refused!.body)).toEqual({
      error: { code: 'SR_METRICS_UNAVAILABLE', message: expect.stringContaining(`pid ${frozen}`) },
    });
    expect(refused!.headers['retry-after']).toBe('1');
    expect(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')).toContain(
      '| `SR_METRICS_UNAVAILABLE`',
    );

    process.kill(frozen, 'SIGCONT');
    stoppedPids.splice(0);
    const again = await send(`${server.url}/metrics`);
    expect(again.status, again.body).toBe(200);

    const { code } = await server.stop('SIGTERM');
    expect(code, server.output()).toBe(0);
    for (const pid of [restarted, frozen]) expect(alive(pid)).toBe(false);
  }, 90_000);

  test(`issue 14: workers that cannot start (the port is taken) stop the primary with exit code 1 after ${START_FAILURE_LIMIT} failures, not a restart loop`, async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const child = spawn(
        process.execPath,
        [MAIN, '--port', String(port), '--workers', '2', '--redis', inject('redisUrl')],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      others.push(child);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, output).toBe(1);
      expect(output).toContain('EADDRINUSE');
      expect(output).toContain(`${START_FAILURE_LIMIT} workers in a row failed to start`);
      // The limit, or one more: a worker restarted meanwhile may fail while the primary stops.
      const cannotListen = output.split('\n').filter((l) => l.includes('cannot listen on'));
      expect(cannotListen.length).toBeGreaterThanOrEqual(START_FAILURE_LIMIT);
      expect(cannotListen.length).toBeLessThanOrEqual(START_FAILURE_LIMIT + 1);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 90_000);

  test('issue 14: Ctrl-C (SIGINT to the whole process group) stops the primary and every worker with exit code 0', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [MAIN, '--port', String(port), '--workers', '2', '--redis', inject('redisUrl')],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    others.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const server = { output: () => output } as BuiltServer;
    const pids = [...(await servingWorkers(server, 2)).values()];
    // Each worker gets the SIGINT and then the primary's SIGTERM: a second signal it ignores.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited, output).toBe(0);
    expect(output).not.toContain('second signal');
    expect(output).toContain('worker 1 stopped (code 0)');
    expect(output).toContain('worker 2 stopped (code 0)');
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 90_000);

  test('issue 17: with --workers 2 one process sweeps placement: every sweep call on Redis comes from one worker', async () => {
    const { server } = await startWorkers(2, ['--placement-sweep-ms', '100']);
    const ns = uniqueNamespace('sweepers');
    // Registrations over fresh connections reach both workers (the primary deals connections
    // round-robin), so each of them knows the service from its own routes.
    for (let pod = 0; pod < 6; pod++) {
      const reply = await send(
        `${server.url}/v1/namespaces/${ns}/services/room/pods/${pod}/registration`,
        'PUT',
        { capacity: 10, ttlSeconds: 60 },
      );
      expect(reply.status, reply.body).toBe(204);
    }
    // From now on only the sweepers touch the service's placement keys. MONITOR tells the
    // connections apart by their address: each worker has its own.
    const monitorClient = new Redis(inject('redisUrl'));
    const sources = new Map<string, number>();
    const monitor = await monitorClient.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands run by a script show as source "lua"; the script call itself has the
      // connection's address.
      if (source !== 'lua' && args.some((arg) => arg.includes(`{${ns}:pl:room}`)))
        sources.set(source, (sources.get(source) ?? 0) + 1);
    });
    try {
      await sleep(2_000);
    } finally {
      monitor.disconnect();
      monitorClient.disconnect();
    }
    const calls = [...sources.values()].reduce((a, b) => a + b, 0);
    // About 20 sweeps of 100 ms in 2 s, each a few commands; one connection made them all.
    expect(calls, JSON.stringify([...sources])).toBeGreaterThanOrEqual(5);
    expect([...sources.keys()], JSON.stringify([...sources])).toHaveLength(1);
  }, 60_000);

  test('issue 14: more than one worker on the embedded backend is refused with exit code 2', () => {
    const result = spawnSync(process.execPath, [MAIN, '--workers', '2'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      '--workers: more than one worker needs --redis or --redis-cluster',
    );
  });

  test('issue 14: every gauge of the executor metrics has a chosen aggregation across workers', async () => {
    const app = await buildApp({ config: { logLevel: 'silent', redisUrl: inject('redisUrl') } });
    try {
      const names = new Map(
        Object.entries(EXECUTOR_METRICS).map(([kind, name]) => [
          `${DEFAULT_METRIC_PREFIX}${name}`,
          kind as ExecutorMetric,
        ]),
      );
      const gauges = (await app.statefulRoute.registry.getMetricsAsJSON()).filter(
        (m) => String(m.type) === 'gauge' && names.has(m.name),
      );
      expect(gauges.length).toBeGreaterThan(0);
      for (const gauge of gauges)
        expect(GAUGE_AGGREGATION[names.get(gauge.name)!], gauge.name).toBeDefined();
    } finally {
      await app.close();
    }
  });
});
