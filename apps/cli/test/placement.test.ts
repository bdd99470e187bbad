/**
 * The placement commands (`pod register|drain|undrain|status`, `allocate`, `release`, `sweep`)
 * run as the built binary against a real Redis and against a real server on its embedded
 * memory backend: the same commands, the same output and exit codes on both. Set-up steps and
 * repetitions run the same program in process (`cli`), which is several times faster than a
 * process per call on a loaded machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NoCapacityError } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ExitCodes, exitCodeOf, RemoteError } from '../src/index.js';
import { bin, cli, type RunResult } from './helpers.js';
import { startServer, type TestServer } from './server.js';

const redisUrl = inject('redisUrl');
const seeds = inject('clusterSeeds');

/**
 * Runs the binary (or, with `inProcess`, the program in process) with `--json` and returns the
 * parsed stdout; the run must succeed.
 */
async function json(argv: string[], inProcess = false): Promise<unknown> {
  const result = await (inProcess ? cli : bin)([...argv, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as unknown;
}

/** The `--json` error document of a failed run. */
function errorOf(result: RunResult): { code: string; message: string; field?: string } {
  return (JSON.parse(result.stderr) as { error: { code: string; message: string; field?: string } })
    .error;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The tests every target passes; `target()` gives the target flags. */
function placementTests(target: () => string[]): void {
  const run = (argv: string[]) => bin([...argv, ...target()]);
  const data = (argv: string[]) => json([...argv, ...target()]);
  const quick = (argv: string[]) => json([...argv, ...target()], true);

  it('registers pods, allocates, refuses without room (exit 5) and releases', async () => {
    const ns = uniqueNamespace('cli-pl');
    const register = await run([
      'pod',
      'register',
      ns,
      'room',
      '1',
      '--capacity',
      '2',
      '--ttl-seconds',
      '3600',
    ]);
    expect(register).toMatchObject({
      code: 0,
      stdout: 'pod 1 of room is registered: capacity 2, lease 3600s\n',
      stderr: '',
    });
    expect(
      await data(['pod', 'register', ns, 'room', '2', '--capacity', '1', '--ttl-seconds', '3600']),
    ).toEqual({ namespace: ns, service: 'room', podId: 2, capacity: 1, ttlSeconds: 3600 });

    // least-loaded (the default): equal ratios go to the lower pod id, then the emptier pod.
    expect(await data(['allocate', ns, 'u1', 'room'])).toEqual({
      podId: 1,
      created: true,
      load: 1,
      capacity: 2,
    });
    expect(await run(['allocate', ns, 'u2', 'room', '--persist-seconds', '300'])).toMatchObject({
      code: 0,
      stdout: 'placed u2 on pod 2 (load 1/1)\n',
    });
    // A uid with a link keeps it, and nothing changes.
    expect(await run(['allocate', ns, 'u1', 'room'])).toMatchObject({
      code: 0,
      stdout: 'u1 is already linked to pod 1 (load 1/2); nothing changed\n',
    });
    expect(await data(['allocate', ns, 'u1', 'room', '--strategy', 'packed'])).toEqual({
      podId: 1,
      created: false,
      load: 1,
      capacity: 2,
    });
    // An ordinary contract link, read by the contract's own command.
    expect(await quick(['link', 'get', ns, 'u1', 'room'])).toEqual({ podId: 1 });
    expect(await data(['allocate', ns, 'u3', 'room'])).toMatchObject({ podId: 1, load: 2 });

    // Full: exit 5 with the executor's code, nothing written.
    const full = await run(['allocate', ns, 'u4', 'room']);
    expect(full.code).toBe(5);
    expect(full.stdout).toBe('');
    expect(full.stderr).toContain('no live, non-draining pod');
    expect(full.stderr).toContain('[SR_NO_CAPACITY]');
    const fullJson = await run(['allocate', ns, 'u4', 'room', '--json']);
    expect(fullJson.code).toBe(ExitCodes.NO_CAPACITY);
    expect(fullJson.stdout).toBe('');
    expect(errorOf(fullJson)).toMatchObject({ code: 'SR_NO_CAPACITY' });
    expect(await quick(['link', 'get', ns, 'u4', 'room'])).toEqual({ podId: -1 });

    // The table: one row per pod, sorted by id, then the summary of what live pods can take.
    const status = await run(['pod', 'status', ns, 'room']);
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toBe('POD  STATUS  LOAD  CAPACITY  LEASE LEFT');
    expect(lines[1]).toMatch(/^ +1 {2}live +2 +2 +[0-9]+\.[0-9]s$/);
    expect(lines[2]).toMatch(/^ +2 {2}live +1 +1 +[0-9]+\.[0-9]s$/);
    expect(lines.slice(3)).toEqual(['2 pods: 2 live, 0 draining, 0 dead; live load 3 of 3', '']);
    const placement = (await data(['pod', 'status', ns, 'room'])) as {
      pods: Record<string, { leaseMs: number }>;
    };
    expect(placement).toEqual({
      pods: {
        1: { load: 2, capacity: 2, status: 'live', leaseMs: expect.any(Number) as number },
        2: { load: 1, capacity: 1, status: 'live', leaseMs: expect.any(Number) as number },
      },
    });
    expect(placement.pods['1']!.leaseMs).toBeGreaterThan(3_000_000);
    expect(placement.pods['1']!.leaseMs).toBeLessThanOrEqual(3_600_000);

    // Release frees the claim: the next allocation fits again.
    expect(await data(['release', ns, 'u3', 'room'])).toEqual({ released: true, podId: 1 });
    expect(await run(['release', ns, 'u3', 'room'])).toMatchObject({
      code: 0,
      stdout: 'nothing released: u3 has no link for room\n',
    });
    expect(await data(['release', ns, 'u3', 'room'])).toEqual({ released: false, podId: -1 });
    expect(await run(['release', ns, 'u2', 'room'])).toMatchObject({
      code: 0,
      stdout: 'released u2 from pod 2\n',
    });
    expect(await quick(['link', 'get', ns, 'u2', 'room'])).toEqual({ podId: -1 });
    expect(await data(['allocate', ns, 'u4', 'room'])).toMatchObject({ podId: 2, created: true });
  });

  it('drains and undrains: a draining pod gets nothing new and keeps its links', async () => {
    const ns = uniqueNamespace('cli-pl');
    for (const id of ['1', '2']) {
      await quick(['pod', 'register', ns, 'room', id, '--capacity', '5', '--ttl-seconds', '3600']);
    }
    expect(await quick(['allocate', ns, 'a', 'room'])).toMatchObject({ podId: 1 });
    expect(await run(['pod', 'drain', ns, 'room', '1'])).toMatchObject({
      code: 0,
      stdout: 'pod 1 of room is draining: no new placements, its links keep resolving\n',
    });
    expect(await data(['pod', 'drain', ns, 'room', '1'])).toEqual({
      namespace: ns,
      service: 'room',
      podId: 1,
      draining: true,
    });
    // packed would fill pod 1 first, but it is draining: b and c go to pod 2.
    expect(await data(['allocate', ns, 'b', 'room', '--strategy', 'packed'])).toMatchObject({
      podId: 2,
    });
    expect(await data(['allocate', ns, 'c', 'room', '--strategy', 'packed'])).toMatchObject({
      podId: 2,
    });
    expect(await quick(['link', 'get', ns, 'a', 'room'])).toEqual({ podId: 1 });
    const status = await run(['pod', 'status', ns, 'room']);
    expect(status.stdout).toMatch(/^ +1 {2}draining +1 +5 /m);
    expect(status.stdout).toContain('2 pods: 1 live, 1 draining, 0 dead; live load 2 of 5\n');

    expect(await data(['pod', 'undrain', ns, 'room', '1'])).toEqual({
      namespace: ns,
      service: 'room',
      podId: 1,
      draining: false,
    });
    expect(await run(['pod', 'undrain', ns, 'room', '1'])).toMatchObject({
      code: 0,
      stdout: 'pod 1 of room takes placements again\n',
    });
    expect(await data(['allocate', ns, 'd', 'room'])).toMatchObject({ podId: 1, load: 2 });
  });

  it('packs with --strategy packed, and spreads by default', async () => {
    const ns = uniqueNamespace('cli-pl');
    for (const id of ['1', '2', '3']) {
      await quick([
        'pod',
        'register',
        ns,
        'packed',
        id,
        '--capacity',
        '3',
        '--ttl-seconds',
        '3600',
      ]);
      await quick([
        'pod',
        'register',
        ns,
        'spread',
        id,
        '--capacity',
        '3',
        '--ttl-seconds',
        '3600',
      ]);
    }
    const packed: number[] = [];
    const spread: number[] = [];
    for (const uid of ['a', 'b', 'c', 'd']) {
      const p = (await quick(['allocate', ns, uid, 'packed', '--strategy', 'packed'])) as {
        podId: number;
      };
      const s = (await quick(['allocate', ns, uid, 'spread', '--strategy', 'least-loaded'])) as {
        podId: number;
      };
      packed.push(p.podId);
      spread.push(s.podId);
    }
    expect(packed).toEqual([1, 1, 1, 2]);
    expect(spread).toEqual([1, 2, 3, 1]);
  });

  it('sweeps the links of a dead pod, and reconciles with --reconcile and --full', async () => {
    const ns = uniqueNamespace('cli-pl');
    await quick(['pod', 'register', ns, 'game', '7', '--capacity', '5', '--ttl-seconds', '3600']);
    await quick(['pod', 'register', ns, 'game', '8', '--capacity', '5', '--ttl-seconds', '3600']);
    expect(await quick(['allocate', ns, 'g1', 'game'])).toMatchObject({ podId: 7 });
    expect(await quick(['allocate', ns, 'g2', 'game'])).toMatchObject({ podId: 8 });
    // A heartbeat with a one-second lease, then none: pod 7 dies.
    await data(['pod', 'register', ns, 'game', '7', '--capacity', '5', '--ttl-seconds', '1']);
    let pods: Record<string, { status: string; load: number; leaseMs: number }> = {};
    for (let i = 0; i < 50; i++) {
      ({ pods } = (await quick(['pod', 'status', ns, 'game'])) as { pods: typeof pods });
      if (pods['7']?.status === 'dead') break;
      await sleep(200);
    }
    expect(pods['7']).toMatchObject({ status: 'dead', load: 1 });
    expect(pods['7']!.leaseMs).toBeLessThanOrEqual(0);
    const status = await run(['pod', 'status', ns, 'game']);
    expect(status.stdout).toMatch(/^ +7 {2}dead +1 +5 {2}expired [0-9]+\.[0-9]s ago$/m);
    expect(status.stdout).toContain('2 pods: 1 live, 0 draining, 1 dead; live load 1 of 5\n');
    // No placement on a dead pod, though it is the emptier one.
    expect(await data(['allocate', ns, 'g3', 'game'])).toMatchObject({ podId: 8, load: 2 });

    expect(await data(['sweep', ns, 'game', '--batch', '1'])).toEqual({ swept: 1, released: 1 });
    expect(await quick(['link', 'get', ns, 'g1', 'game'])).toEqual({ podId: -1 });
    expect(await quick(['link', 'get', ns, 'g2', 'game'])).toEqual({ podId: 8 });
    // Nothing left on the dead pod: it is unregistered.
    expect(await data(['pod', 'status', ns, 'game'])).toEqual({
      pods: { 8: { load: 2, capacity: 5, status: 'live', leaseMs: expect.any(Number) as number } },
    });
    expect(await run(['sweep', ns, 'game'])).toMatchObject({
      code: 0,
      stdout: 'swept 0 links of dead pods, released 0 claims\n',
    });

    // A link written by another writer is no claim: only a full reconcile adopts it.
    await quick(['link', 'set', ns, 'other', 'game', '8']);
    expect(await data(['sweep', ns, 'game', '--reconcile'])).toEqual({
      swept: 0,
      released: 0,
      reconcile: { checked: 0, released: 0, confirmed: 0, adopted: 0 },
    });
    const fullPass = await run(['sweep', ns, 'game', '--full', '--batch', '10']);
    expect(fullPass.code).toBe(0);
    expect(fullPass.stdout).toBe(
      'swept 0 links of dead pods, released 0 claims\n' +
        'reconcile (full): checked 2 claims, released 0, confirmed 0, adopted 1\n',
    );
    expect(await data(['pod', 'status', ns, 'game'])).toMatchObject({
      pods: { 8: { load: 3, capacity: 5 } },
    });
  });

  it('refuses bad input with exit 2 naming the field, and writes nothing', async () => {
    const ns = uniqueNamespace('cli-pl');
    const cases: [string[], string][] = [
      [['pod', 'register', ns, 'room', '1', '--capacity', '1.5', '--ttl-seconds', '5'], 'capacity'],
      [['pod', 'register', ns, 'room', '1', '--capacity=-1', '--ttl-seconds', '5'], 'capacity'],
      [
        ['pod', 'register', ns, 'room', '1', '--capacity', '2147483648', '--ttl-seconds', '5'],
        'capacity',
      ],
      [['pod', 'register', ns, 'room', '1', '--capacity', '3', '--ttl-seconds', '0'], 'ttlSeconds'],
      [['pod', 'register', ns, 'room', '03', '--capacity', '3', '--ttl-seconds', '5'], 'podId'],
      [
        ['pod', 'register', 'a:b', 'room', '1', '--capacity', '3', '--ttl-seconds', '5'],
        'namespace',
      ],
      [['pod', 'drain', ns, 'room', '1.5'], 'podId'],
      [['pod', 'undrain', ns, 'room', 'x'], 'podId'],
      [['pod', 'status', ns, ''], 'service'],
      [['allocate', ns, 'u1', 'room', '--strategy', 'random'], 'strategy'],
      [['allocate', ns, 'u1', 'room', '--persist-seconds', '0'], 'persistSeconds'],
      [['allocate', ns, 'a{b', 'room'], 'uid'],
      [['release', ns, '', 'room'], 'uid'],
      [['sweep', ns, 'room', '--batch', '0'], 'batch'],
      [['sweep', ns, 'room', '--batch', '201', '--reconcile'], 'batch'],
      [['sweep', ns, 'room', '--batch', '1e3'], 'batch'],
    ];
    // Six cases through the binary, the others in process (the same program, faster).
    const viaBinary = new Set([0, 6, 8, 9, 12, 13]);
    const results = await Promise.all(
      cases.map(([argv], i) =>
        viaBinary.has(i) ? run([...argv, '--json']) : cli([...argv, ...target(), '--json']),
      ),
    );
    results.forEach((result, i) => {
      const [argv, field] = cases[i]!;
      expect({ argv, code: result.code, stdout: result.stdout }).toEqual({
        argv,
        code: 2,
        stdout: '',
      });
      expect(errorOf(result)).toMatchObject({ code: 'SR_VALIDATION', field });
    });
    // Commander's own refusals: a missing required option is named too.
    const missing = await run(['pod', 'register', ns, 'room', '1', '--capacity', '3']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--ttl-seconds <n>' not specified");
    // The human form names the field as well.
    const human = await run(['allocate', ns, 'u1', 'room', '--strategy', 'random']);
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/strategy.*least-loaded, packed.*\[SR_VALIDATION\]/);
    expect(await data(['pod', 'status', ns, 'room'])).toEqual({ pods: {} });
    expect(await run(['pod', 'status', ns, 'room'])).toMatchObject({
      code: 0,
      stdout: 'no registered pods for service room\n',
    });
  });
}

// Many processes per test on a machine that may be loaded: a generous bound, no timing asserted.
const SLOW = { timeout: 120_000 };

describe('placement commands on a direct Redis target', SLOW, () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await redis.quit();
  });

  placementTests(() => ['--redis', redisUrl]);

  it('writes the contract link and the placement keys of the design', async () => {
    const ns = uniqueNamespace('cli-pl');
    await json([
      'pod',
      'register',
      ns,
      'room',
      '4',
      '--capacity',
      '1',
      '--ttl-seconds',
      '30',
      '--redis',
      redisUrl,
    ]);
    await json(['allocate', ns, 'u1', 'room', '--redis', redisUrl]);
    expect(await redis.get(`sf:{${ns}:lk:u1}room`)).toBe('4');
    expect(await redis.hget(`sf:{${ns}:lk:u1}`, 'room')).toBe('4');
    expect(await redis.hget(`sf:{${ns}:pl:room}cap`, '4')).toBe('1');
    expect(await redis.hget(`sf:{${ns}:pl:room}load`, '4')).toBe('1');
    // Refused for want of room: no link, no claim.
    expect((await bin(['allocate', ns, 'u2', 'room', '--redis', redisUrl])).code).toBe(5);
    expect(await redis.exists(`sf:{${ns}:lk:u2}room`)).toBe(0);
    expect(await redis.hget(`sf:{${ns}:pl:room}load`, '4')).toBe('1');
  });

  it('works on a Redis Cluster', async () => {
    const ns = uniqueNamespace('cli-pl');
    const cluster = ['--redis-cluster', seeds.map((seed) => `${seed.host}:${seed.port}`).join(',')];
    await json([
      'pod',
      'register',
      ns,
      'room',
      '1',
      '--capacity',
      '2',
      '--ttl-seconds',
      '30',
      ...cluster,
    ]);
    const uids = ['a', 'b', 'c'];
    const results = [];
    for (const uid of uids)
      results.push(await bin(['allocate', ns, uid, 'room', '--json', ...cluster]));
    expect(results.map((result) => result.code)).toEqual([0, 0, 5]);
    expect(await json(['pod', 'status', ns, 'room', ...cluster])).toMatchObject({
      pods: { 1: { load: 2, capacity: 2, status: 'live' } },
    });
    expect(await json(['release', ns, 'a', 'room', ...cluster])).toEqual({
      released: true,
      podId: 1,
    });
  });
});

describe('placement commands through a server on the memory backend', SLOW, () => {
  let server: TestServer;
  beforeAll(async () => {
    // The server's own sweeper off: the sweep test counts what its `sweep` removes.
    server = await startServer({ args: ['--placement-sweep-ms', '0'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  placementTests(() => ['--server', server.url]);
});

describe('no capacity through HTTP', () => {
  let proxy: Server;
  let url: string;
  beforeAll(async () => {
    // A stand-in for a proxy in front of the server: 409 with a body of no known code.
    proxy = createServer((_request, response) => {
      response.writeHead(409, { 'content-type': 'text/plain' }).end('conflict');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('a 409 of the allocations route is SR_NO_CAPACITY whatever its body (exit 5)', async () => {
    const result = await bin(['allocate', 'ns', 'u1', 'room', '--server', url, '--json']);
    expect(result.code).toBe(5);
    expect(errorOf(result)).toMatchObject({ code: 'SR_NO_CAPACITY' });
    expect(errorOf(result).message).toContain('room');
  });

  it('maps the code to exit 5 on every path', () => {
    expect(exitCodeOf(new NoCapacityError())).toBe(5);
    expect(exitCodeOf(new RemoteError(409, 'SR_NO_CAPACITY', 'x'))).toBe(5);
    // Another 409 of the server (not the allocations route) keeps the generic exit code.
    expect(exitCodeOf(new RemoteError(409, 'SR_CLI_REMOTE', 'x'))).toBe(4);
  });
});
