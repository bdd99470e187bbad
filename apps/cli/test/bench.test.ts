import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatMs, formatMsValue } from '@stateful-route/reporter';
import { cli } from './helpers.js';

const url = inject('redisUrl');
let redis: Redis;
let dir: string;

beforeAll(async () => {
  redis = new Redis(url);
  dir = await mkdtemp(join(tmpdir(), 'sr-cli-bench-'));
});
afterAll(async () => {
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

const short = ['--duration', '600ms', '--concurrency', '8', '--keys', '50', '--redis'];

interface BenchJson {
  namespace: string;
  operations: number;
  errors: number;
  snapshot: { schemaVersion: number; operations: Record<string, { count: number }> };
  comparison?: { verdict: { pass: boolean } };
}

describe('bench', () => {
  it('prints one JSON document with --json even when stderr is a TTY, and deletes its keys', async () => {
    const out = join(dir, 'snapshot.json');
    const result = await cli(['bench', ...short, url, '--json', '--out', out], { stderrTTY: true });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as BenchJson;
    expect(json.namespace).toMatch(/^stateful-route-bench-[0-9a-f]{8}$/);
    expect(json.operations).toBeGreaterThan(0);
    expect(json.errors).toBe(0);
    expect(Object.keys(json.snapshot.operations)).toContain('getServiceState');
    const saved = JSON.parse(await readFile(out, 'utf8')) as BenchJson['snapshot'];
    expect(saved.schemaVersion).toBe(1);
    expect(await redis.scan('0', 'MATCH', `sf:{${json.namespace}:*`, 'COUNT', 10_000)).toEqual([
      '0',
      [],
    ]);
  });

  it('draws the progress bar on a TTY stderr only, never on stdout', async () => {
    const tty = await cli(['bench', ...short, url, '--mix', 'getServiceState=1'], {
      stderrTTY: true,
    });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('\r[');
    expect(tty.stderr).toContain('%');
    expect(tty.stdout).not.toContain('\r');
    expect(tty.stdout).toMatch(/OPERATION\s+CALLS/);
    expect(tty.stdout).toContain('getServiceState');
    expect(tty.stdout).not.toContain('setLinkedPodIfAbsent');

    const piped = await cli(['bench', ...short, url, '--mix', 'getServiceState=1']);
    expect(piped.stderr).toBe('');
  });

  it('exits 1 when a threshold fails against a baseline, 0 when it holds', async () => {
    const base = join(dir, 'base.json');
    expect((await cli(['bench', ...short, url, '--out', base])).code).toBe(0);
    const failing = await cli([
      'bench',
      ...short,
      url,
      '--baseline',
      base,
      '--threshold',
      'getServiceState.p99<1us',
      '--json',
    ]);
    expect(failing.code).toBe(1);
    const json = JSON.parse(failing.stdout) as BenchJson;
    expect(json.comparison?.verdict.pass).toBe(false);

    const holding = await cli(['bench', ...short, url, '--threshold', 'errorRate<=0%']);
    expect(holding.stdout).toContain('PASS');
    expect(holding.code).toBe(0);
  });

  it('runs on a Redis Cluster and deletes its keys on every master', async () => {
    const seeds = inject('clusterSeeds');
    const nodes = seeds.map((seed) => `${seed.host}:${seed.port}`).join(',');
    const result = await cli([
      'bench',
      '--duration',
      '500ms',
      '--concurrency',
      '8',
      '--redis-cluster',
      nodes,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as BenchJson;
    expect(json.errors).toBe(0);
    expect(json.operations).toBeGreaterThan(0);
    for (const seed of seeds) {
      const node = new Redis({ host: seed.host, port: seed.port });
      try {
        expect(await node.scan('0', 'MATCH', `sf:{${json.namespace}:*`, 'COUNT', 100_000)).toEqual([
          '0',
          [],
        ]);
      } finally {
        await node.quit();
      }
    }
  });

  it('stops early on Ctrl-C (the abort signal): prints what it measured, says so, deletes its keys, exits 130', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    // Ten minutes unless stopped: the test would time out if the signal were ignored.
    const result = await cli(
      [
        'bench',
        '--duration',
        '10m',
        '--warmup',
        '200ms',
        '--concurrency',
        '8',
        '--redis',
        url,
        '--json',
      ],
      {
        signal: controller.signal,
      },
    );
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/^bench: interrupted \(Ctrl-C\) after [0-9.]+ s of 600 s/);
    const json = JSON.parse(result.stdout) as BenchJson & { interrupted?: boolean };
    expect(json.interrupted).toBe(true);
    expect(json.operations).toBeGreaterThan(0);
    expect(await redis.scan('0', 'MATCH', `sf:{${json.namespace}:*`, 'COUNT', 100_000)).toEqual([
      '0',
      [],
    ]);
  });

  it('prints one throughput: the header and the total line agree', async () => {
    const result = await cli(['bench', ...short, url, '--warmup', '100ms']);
    expect(result.code).toBe(0);
    const header = /^bench on .*: ([0-9,.]+) ops\/s with 8 in flight, after a 0\.1 s warm-up/m.exec(
      result.stdout,
    );
    const total = /^total: [0-9,]+ calls, ([0-9,.]+) ops\/s/m.exec(result.stdout);
    expect(header?.[1]).toBeDefined();
    expect(header?.[1]).toBe(total?.[1]);
  });

  it('measures after a warm-up that is counted nowhere; --no-warmup measures from the first call', async () => {
    const warm = join(dir, 'warm.json');
    const first = await cli(['bench', ...short, url, '--warmup', '300ms', '--out', warm, '--json']);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as BenchJson & {
      warmupMs: number;
      warmupOperations: number;
      throughput: number;
      snapshot: { totals: { count: number; throughput: number } };
    };
    expect(a.warmupMs).toBe(300);
    expect(a.warmupOperations).toBeGreaterThan(0);
    // The snapshot (what report and --baseline read) holds the measured calls only.
    expect(a.snapshot.totals.count).toBe(a.operations);
    expect(a.throughput).toBe(a.snapshot.totals.throughput);

    // Compared with a run of the same settings: the comparison sees both measured parts.
    const second = await cli([
      'bench',
      ...short,
      url,
      '--warmup',
      '300ms',
      '--baseline',
      warm,
      '--json',
    ]);
    const b = JSON.parse(second.stdout) as BenchJson & {
      comparison: { operations: { operation: string }[] };
    };
    expect(b.comparison.operations.map((op) => op.operation)).toContain('getServiceState');

    const cold = await cli(['bench', ...short, url, '--no-warmup', '--json']);
    expect(cold.code).toBe(0);
    expect(JSON.parse(cold.stdout)).toMatchObject({ warmupMs: 0, warmupOperations: 0 });
  });

  it("prints latencies in ms with the reporter's formatter, as report does", async () => {
    const out = join(dir, 'units.json');
    const bench = await cli(['bench', ...short, url, '--warmup', '100ms', '--out', out]);
    expect(bench.code).toBe(0);
    const saved = JSON.parse(await readFile(out, 'utf8')) as {
      operations: Record<string, { latency: { p50: number; p99: number } }>;
    };
    const { p50, p99 } = saved.operations['getServiceState']!.latency;
    const row = bench.stdout.split('\n').find((line) => line.startsWith('getServiceState'));
    expect(row).toContain(formatMs(p50));
    expect(row).toContain(formatMs(p99));
    expect(bench.stdout).not.toContain('µs');
    const report = await cli(['report', '--input', out, '--format', 'text']);
    expect(report.code).toBe(0);
    const reportRow = report.stdout.split('\n').find((line) => line.includes('getServiceState'));
    expect(reportRow).toContain(formatMsValue(p50));
    expect(reportRow).toContain(formatMsValue(p99));
  });

  it('refuses bad options before running (exit 2)', async () => {
    const cases = [
      ['--threshold', 'p99<<5ms'],
      ['--mix', 'nope=3'],
      ['--mix', 'getServiceState=x'],
      ['--duration', '10 parsecs'],
      ['--warmup', 'soon'],
      ['--concurrency', '0'],
      ['--baseline', join(dir, 'missing.json')],
    ];
    for (const flags of cases) {
      // A 10-minute run: had any of these started, the test would time out.
      const result = await cli(['bench', '--duration', '10m', '--redis', url, ...flags]);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
    }
    const server = await cli(['bench', '--server', 'http://127.0.0.1:9']);
    expect(server.code).toBe(2);
    expect(server.stderr).toContain('direct Redis target');
  });
});
