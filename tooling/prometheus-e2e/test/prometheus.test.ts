// A real Prometheus (Debian's package) scrapes the BUILT server every second while the test
// sends a known amount of paced traffic; then Prometheus' HTTP API must report the rate,
// the increase and a latency quantile that match what was sent. The same Prometheus loads
// deploy/prometheus/alerts.yml and answers every query of the Grafana dashboard.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dashboardQueries } from './dashboard.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const serverMain = join(root, 'apps/server/dist/main.js');
const alertRules = join(root, 'deploy/prometheus/alerts.yml');

/** Paced traffic: per 100 ms tick, this many calls of each operation. */
const TICK_MS = 100;
const TICKS = 80; // 8 s of traffic
const LINKS_PER_TICK = 5; // 50/s setLinkedPod
const READS_PER_TICK = 10; // 100/s getServiceState
const READ_ROUTE = '/v1/namespaces/:ns/services/:svc/pods';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let folder: string;
let prometheus: ChildProcess;
let server: ChildProcess;
let serverLog = '';
let promBase: string;
let serverBase: string;
const namespace = uniqueNamespace('prom');

function start(command: string, args: string[], log: (text: string) => void): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', log);
  child.stderr!.setEncoding('utf8').on('data', log);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${serverLog}`);
    await sleep(100);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An instant query; `time` in seconds since the epoch (default: now). */
async function query(expr: string, time?: number): Promise<Sample[]> {
  const params = new URLSearchParams({ query: expr });
  if (time !== undefined) params.set('time', time.toFixed(3));
  const response = await fetch(`${promBase}/api/v1/query?${params}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data: { resultType: string; result: Sample[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

async function scalar(expr: string, time?: number): Promise<number> {
  const result = await query(expr, time);
  expect(result, expr).toHaveLength(1);
  return Number(result[0]!.value[1]);
}

/** The server's own counter, read from /metrics (no Prometheus in between). */
async function scrapeServer(): Promise<string> {
  return (await fetch(`${serverBase}/metrics`)).text();
}

function bucketsOf(exposition: string, operation: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const pattern = new RegExp(
    `^stateful_executor_operation_duration_seconds_bucket\\{[^}]*operation="${operation}"[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`,
    'gm',
  );
  for (const match of exposition.matchAll(pattern)) {
    buckets.set(match[1] === '+Inf' ? Infinity : Number(match[1]), Number(match[2]));
  }
  return buckets;
}

const links = (uid: number) =>
  fetch(`${serverBase}/v1/namespaces/${namespace}/users/u${uid}/links/room`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ podId: uid % 7, persistSeconds: 300, mode: 'set' }),
  });
const read = () => fetch(`${serverBase}/v1/namespaces/${namespace}/services/room/pods`);

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'stateful-route-prom-'));
  const serverPort = await freePort();
  const promPort = await freePort();
  serverBase = `http://127.0.0.1:${serverPort}`;
  promBase = `http://127.0.0.1:${promPort}`;

  server = start(
    'node',
    [
      serverMain,
      '--host',
      '127.0.0.1',
      '--port',
      String(serverPort),
      '--redis',
      inject('redisUrl'),
      '--log-level',
      'warn',
    ],
    (text) => (serverLog += text),
  );
  await waitFor('the server', async () =>
    (await fetch(`${serverBase}/readyz`)).ok ? true : undefined,
  );

  const config = join(folder, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(alertRules)}`,
      'scrape_configs:',
      '  - job_name: stateful-route',
      '    scrape_timeout: 900ms',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${serverPort}']`,
      '',
    ].join('\n'),
  );
  prometheus = start(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(folder, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    (text) => (serverLog += text),
  );
  await waitFor('Prometheus', async () =>
    (await fetch(`${promBase}/-/ready`)).ok ? true : undefined,
  );

  // Every series must exist (at its pre-traffic value) before the measured traffic, or
  // rate() would miss the increments of the first scrape.
  await links(0);
  await read();
  await waitFor('the first scrapes', async () => {
    const up = await query('up{job="stateful-route"} == 1');
    const ops = await query(
      `stateful_executor_operations_total{operation="getServiceState",status="success"}`,
    );
    return up.length === 1 && ops.length === 1 ? true : undefined;
  });
  await sleep(1_100);
});

afterAll(async () => {
  await stop(prometheus);
  await stop(server);
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('Prometheus scraping the built server', () => {
  it('reports the rate, increase and p99 of the traffic sent', async () => {
    const before = await scrapeServer();
    const startedAt = Date.now() / 1000;
    const clientLatencies: number[] = [];
    let sentLinks = 0;
    let sentReads = 0;
    for (let tick = 0; tick < TICKS; tick++) {
      const due = startedAt * 1000 + tick * TICK_MS;
      await sleep(Math.max(0, due - Date.now()));
      const calls: Promise<void>[] = [];
      for (let i = 0; i < LINKS_PER_TICK; i++) {
        const uid = tick * LINKS_PER_TICK + i;
        calls.push(links(uid).then((r) => expect(r.status).toBe(200)));
        sentLinks++;
      }
      for (let i = 0; i < READS_PER_TICK; i++) {
        const t0 = performance.now();
        calls.push(
          read().then((r) => {
            clientLatencies.push((performance.now() - t0) / 1000);
            expect(r.status).toBe(200);
          }),
        );
        sentReads++;
      }
      await Promise.all(calls);
    }
    const endedAt = Date.now() / 1000;
    const after = await scrapeServer();
    // Two more scrapes so Prometheus has seen the final counter values.
    await sleep(2_200);
    const at = Date.now() / 1000;
    const window = `${Math.ceil(at - startedAt + 1)}s`;
    const trafficSeconds = endedAt - startedAt;

    // Exact: the counter moved by exactly the number of calls sent.
    const counter = (op: string, t?: number) =>
      scalar(`sum(stateful_executor_operations_total{operation="${op}",status="success"})`, t);
    expect((await counter('setLinkedPod', at)) - (await counter('setLinkedPod', startedAt))).toBe(
      sentLinks,
    );
    expect(
      (await counter('getServiceState', at)) - (await counter('getServiceState', startedAt)),
    ).toBe(sentReads);

    // rate() over 4 s in the middle of the traffic: the paced rate, within 20%.
    const middle = startedAt + trafficSeconds * 0.6;
    const linkRate = await scalar(
      `sum(rate(stateful_executor_operations_total{operation="setLinkedPod"}[4s]))`,
      middle,
    );
    const readRate = await scalar(
      `sum(rate(stateful_executor_operations_total{operation="getServiceState"}[4s]))`,
      middle,
    );
    const sentLinkRate = sentLinks / trafficSeconds;
    const sentReadRate = sentReads / trafficSeconds;
    console.log(
      `rate: setLinkedPod ${linkRate.toFixed(1)}/s (sent ${sentLinkRate.toFixed(1)}/s), ` +
        `getServiceState ${readRate.toFixed(1)}/s (sent ${sentReadRate.toFixed(1)}/s)`,
    );
    expect(linkRate).toBeGreaterThan(sentLinkRate * 0.8);
    expect(linkRate).toBeLessThan(sentLinkRate * 1.2);
    expect(readRate).toBeGreaterThan(sentReadRate * 0.8);
    expect(readRate).toBeLessThan(sentReadRate * 1.2);

    // increase() over a window covering the traffic: the count sent, within 15%
    // (Prometheus extrapolates to the window edges).
    const linkIncrease = await scalar(
      `sum(increase(stateful_executor_operations_total{operation="setLinkedPod"}[${window}]))`,
      at,
    );
    const httpIncrease = await scalar(
      `sum(increase(http_request_duration_seconds_count{route="${READ_ROUTE}",method="GET"}[${window}]))`,
      at,
    );
    console.log(
      `increase[${window}]: setLinkedPod ${linkIncrease.toFixed(0)} (sent ${sentLinks}), GET pods ${httpIncrease.toFixed(0)} (sent ${sentReads})`,
    );
    expect(linkIncrease).toBeGreaterThan(sentLinks * 0.95);
    expect(linkIncrease).toBeLessThan(sentLinks * 1.15);
    expect(httpIncrease).toBeGreaterThan(sentReads * 0.95);
    expect(httpIncrease).toBeLessThan(sentReads * 1.15);

    // histogram_quantile(0.99): in the bucket where the 99th of the calls sent falls,
    // computed from the server's own bucket counts before and after the traffic.
    const p99 = await scalar(
      `histogram_quantile(0.99, sum by (le) (rate(stateful_executor_operation_duration_seconds_bucket{operation="getServiceState"}[${window}])))`,
      at,
    );
    const b0 = bucketsOf(before, 'getServiceState');
    const b1 = bucketsOf(after, 'getServiceState');
    const bounds = [...b1.keys()].sort((a, b) => a - b);
    const delta = bounds.map((le) => b1.get(le)! - (b0.get(le) ?? 0));
    expect(delta.at(-1)).toBe(sentReads);
    const rank = 0.99 * sentReads;
    const index = delta.findIndex((cumulative) => cumulative >= rank);
    const lower = index === 0 ? 0 : bounds[index - 1]!;
    const upper = bounds[index]!;
    // Every server-side duration is inside its HTTP request: no observation exceeds the
    // slowest request the client saw, so the estimate stays under that request's bucket.
    const slowest = Math.max(...clientLatencies);
    const slowestBound = bounds.find((le) => le >= slowest)!;
    console.log(
      `p99 getServiceState: Prometheus ${(p99 * 1e3).toFixed(3)} ms, bucket (${lower * 1e3}, ${upper * 1e3}] ms, slowest request ${(slowest * 1e3).toFixed(2)} ms`,
    );
    expect(p99).toBeGreaterThan(lower);
    expect(p99).toBeLessThanOrEqual(upper);
    expect(p99).toBeLessThanOrEqual(slowestBound);
  });

  it('answers every query of the Grafana dashboard, with data for the executor and HTTP panels', async () => {
    const empty: string[] = [];
    for (const q of await dashboardQueries('10s')) {
      const result = await query(q.resolved); // throws on a query Prometheus cannot parse
      if (result.length === 0) empty.push(`${q.panel}: ${q.expr}`);
    }
    // Only series that this traffic cannot produce may be empty: errors, NOSCRIPT reloads,
    // reconnects, maxmemory (unset on the test Redis), the near cache (off by default).
    const allowedEmpty = /errors_total|status_code=~"4\.\.\|5\.\."|maxmemory/;
    expect(empty.filter((e) => !allowedEmpty.test(e))).toEqual([]);
  });

  it('loads the alert rules and evaluates them without error; error, connection, script-cache and server-down alerts stay inactive', async () => {
    const response = await fetch(`${promBase}/api/v1/rules`);
    const body = (await response.json()) as {
      data: {
        groups: { rules: { name: string; health: string; lastError?: string; state?: string }[] }[];
      };
    };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name).sort()).toEqual([
      'StatefulRouteAllocationsRefused',
      'StatefulRouteHighErrorRatio',
      'StatefulRouteHighLatencyP99',
      'StatefulRouteRedisConnectionDown',
      'StatefulRouteScriptCacheHitRatioLow',
      'StatefulRouteServerAbsent',
      'StatefulRouteServerDown',
      'stateful_route:allocation_refused_ratio:rate5m',
      'stateful_route:operation_duration_seconds:p99_rate5m',
      'stateful_route:operation_error_ratio:rate5m',
      'stateful_route:script_cache_hit_ratio:rate5m',
      'stateful_route:server_error_ratio:rate5m',
    ]);
    for (const rule of rules) expect(rule.health, `${rule.name}: ${rule.lastError}`).toBe('ok');
    // No error, a ready connection and SHA-served scripts: those alerts must be inactive.
    // (The p99 alert may be pending on a loaded machine: its threshold is a real latency.)
    for (const name of [
      'StatefulRouteAllocationsRefused',
      'StatefulRouteHighErrorRatio',
      'StatefulRouteRedisConnectionDown',
      'StatefulRouteScriptCacheHitRatioLow',
      'StatefulRouteServerDown',
      'StatefulRouteServerAbsent',
    ]) {
      expect(rules.find((r) => r.name === name)?.state, name).toBe('inactive');
    }
    // The recording rules see the traffic: error ratios of exactly 0 (not absent), and
    // every script call of the window served by SHA.
    expect(await scalar('stateful_route:operation_error_ratio:rate5m')).toBe(0);
    expect(await scalar('stateful_route:server_error_ratio:rate5m')).toBe(0);
    expect(await scalar('stateful_route:script_cache_hit_ratio:rate5m')).toBe(1);
    // The connection alert's input exists (one ready connection or more) and is not 0.
    const ready = await query('stateful_executor_redis_connection_status{status="ready"}');
    expect(ready.length).toBeGreaterThan(0);
    for (const s of ready) expect(Number(s.value[1])).toBeGreaterThanOrEqual(1);
  });

  it('scrapes stateful_route_build_info with the server version, and cache counters that agree with the ratio', async () => {
    const { version } = JSON.parse(
      await readFile(join(root, 'apps/server/package.json'), 'utf8'),
    ) as { version: string };
    const info = await query('stateful_route_build_info{job="stateful-route"}');
    expect(info.map((s) => [s.metric.version, s.metric.node_version, s.value[1]])).toEqual([
      [version, process.version, '1'],
    ]);
    // The server's own exposition: hits and misses give the since-creation ratio exactly.
    const text = await scrapeServer();
    const read = (name: string) =>
      Number(new RegExp(`^${name}\\{cache_type="script"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const hits = read('stateful_executor_cache_hits_total');
    const misses = read('stateful_executor_cache_misses_total');
    const ratio = read('stateful_executor_cache_hit_ratio');
    expect(hits).toBeGreaterThan(0);
    expect(ratio).toBe(hits / (hits + misses));
  });
});
