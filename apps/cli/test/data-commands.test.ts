import { uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli } from './helpers.js';

const url = inject('redisUrl');
const seeds = inject('clusterSeeds');
let redis: Redis;

beforeAll(() => {
  redis = new Redis(url);
});
afterAll(async () => {
  await redis.quit();
});

describe('data commands on a direct Redis target', () => {
  it('sets a link and reads it back, in tables and in JSON', async () => {
    const ns = uniqueNamespace('cli');
    const set = await cli(['link', 'set', ns, 'user1', 'room', '3', '--redis', url]);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toContain('linked user1 to pod 3');
    // The wire layout of the contract: the CLI wrote through the executor.
    expect(await redis.get(`sf:{${ns}:lk:user1}room`)).toBe('3');
    expect(await redis.hget(`sf:{${ns}:lk:user1}`, 'room')).toBe('3');

    const get = await cli(['link', 'get', ns, 'user1', 'room', '--redis', url, '--json']);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ podId: 3 });

    const again = await cli(['--json', 'link', 'set', ns, 'user1', 'room', '5', '--redis', url]);
    expect(JSON.parse(again.stdout)).toEqual({ previous: 3 });
  });

  it('runs every link operation with its options', async () => {
    const ns = uniqueNamespace('cli');
    const r = ['--redis', url, '--json'];
    const parse = async (argv: string[]) => {
      const result = await cli([...argv, ...r]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as unknown;
    };
    expect(
      await parse(['link', 'set-if-absent', ns, 'u1', 'room', '2', '--persist-seconds', '300']),
    ).toEqual({ podId: 2 });
    expect(await redis.ttl(`sf:{${ns}:lk:u1}room`)).toBeGreaterThan(290);
    expect(await parse(['link', 'set-if-absent', ns, 'u1', 'room', '4'])).toEqual({ podId: 2 });
    expect(await parse(['link', 'get', ns, 'u1', 'room', '--persistent-only'])).toEqual({
      podId: -1,
    });
    // A temporary link does not refuse trySet.
    expect(await parse(['link', 'try', ns, 'u1', 'room', '4'])).toEqual({
      linked: true,
      current: 4,
      previous: 2,
    });
    expect(await parse(['link', 'try', ns, 'u1', 'room', '7'])).toEqual({
      linked: false,
      current: 4,
      previous: -1,
    });
    expect(await parse(['link', 'set', ns, 'u2', 'room', '0', '--persist-seconds=-1'])).toEqual({
      previous: -1,
    });
    expect(await parse(['link', 'set', ns, 'u2', 'chat', '9'])).toEqual({ previous: -1 });
    expect(await parse(['link', 'list', ns, 'u2'])).toEqual({ links: { room: 0, chat: 9 } });
    expect(await parse(['link', 'query', ns, 'room', 'u1', 'u2', 'u3'])).toEqual({
      pods: { 0: ['u2'], 4: ['u1'] },
    });
    expect(await parse(['link', 'remove', ns, 'u1', 'room', '--pod-id', '5'])).toEqual({
      removed: false,
    });
    expect(await parse(['link', 'remove', ns, 'u1', 'room', '--pod-id', '4'])).toEqual({
      removed: true,
    });
    expect(await parse(['link', 'remove', ns, 'u2', 'room', '--keep-seconds', '30'])).toEqual({
      removed: true,
    });
    expect(await parse(['link', 'get', ns, 'u2', 'room'])).toEqual({ podId: -1 });
  });

  it('reads and writes pod and workload states', async () => {
    const ns = uniqueNamespace('cli');
    expect((await cli(['state', 'set', ns, 'room', '0', 'READY', '--redis', url])).code).toBe(0);
    expect((await cli(['state', 'set', ns, 'room', '12', 'DRAINING', '--redis', url])).code).toBe(
      0,
    );
    const table = await cli(['state', 'get', ns, 'room', '--redis', url]);
    expect(table.stdout.split('\n')).toEqual(['POD  STATE', '  0  READY', ' 12  DRAINING', '']);
    const json = await cli(['state', 'get', ns, 'room', '--redis', url, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ pods: { 0: 'READY', 12: 'DRAINING' } });

    expect((await cli(['workload', 'set', ns, 'room', '42-1732800000', '--redis', url])).code).toBe(
      0,
    );
    const workload = await cli(['workload', 'get', ns, 'room', '--redis', url, '--json']);
    expect(JSON.parse(workload.stdout)).toEqual({ state: '42-1732800000' });
    const none = await cli(['workload', 'get', ns, 'lobby', '--redis', url, '--json']);
    expect(JSON.parse(none.stdout)).toEqual({ state: null });
    // As the help says: absent prints nothing on stdout (a note on stderr).
    const absent = await cli(['workload', 'get', ns, 'lobby', '--redis', url]);
    expect([absent.code, absent.stdout]).toEqual([0, '']);
    expect(absent.stderr).toContain('no workload state for service lobby');
    const present = await cli(['workload', 'get', ns, 'room', '--redis', url]);
    expect(present.stdout).toBe('42-1732800000\n');
    const batch = await cli(['workload', 'query', ns, 'room', 'lobby', '--redis', url, '--json']);
    expect(JSON.parse(batch.stdout)).toEqual({ states: { room: '42-1732800000' } });
  });

  it('works on a Redis Cluster', async () => {
    const ns = uniqueNamespace('cli');
    const nodes = seeds.map((seed) => `${seed.host}:${seed.port}`).join(',');
    for (const uid of ['a', 'b', 'c', 'd']) {
      const result = await cli(['link', 'set', ns, uid, 'room', '1', '--redis-cluster', nodes]);
      expect(result.code).toBe(0);
    }
    const query = await cli(['link', 'query', ns, 'room', 'a', 'b', 'c', 'd', 'e', '--json'], {
      env: { REDIS_CLUSTER_NODES: nodes },
    });
    expect(query.stderr).toBe('');
    expect(JSON.parse(query.stdout)).toEqual({ pods: { 1: ['a', 'b', 'c', 'd'] } });
  });

  it('takes the target from REDIS_URL when no flag is given', async () => {
    const ns = uniqueNamespace('cli');
    const result = await cli(['state', 'get', ns, 'room', '--json'], { env: { REDIS_URL: url } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ pods: {} });
  });
});

describe('input rules and exit codes', () => {
  it('refuses a uid with a brace (exit 2, names the field) and writes nothing', async () => {
    const ns = uniqueNamespace('cli');
    const result = await cli(['link', 'set', ns, 'a}b', 'room', '3', '--redis', url]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('uid');
    expect(result.stderr).toContain('SR_VALIDATION');
    expect(await redis.keys(`sf:{${ns}*`)).toEqual([]);
  });

  it.each([
    ['3.5', 'podId'],
    ['03x', 'podId'],
    ['03', 'podId'],
    ['', 'podId'],
    ['1e3', 'podId'],
    ['-1', 'podId'],
  ])('refuses pod id %j (exit 2, field %s)', async (value, field) => {
    const ns = uniqueNamespace('cli');
    // `--` so that '-1' reaches the argument and the executor's range rule, not commander.
    const result = await cli([
      '--redis',
      url,
      '--json',
      'link',
      'set',
      ns,
      'u',
      'room',
      '--',
      value,
    ]);
    expect(result.code).toBe(2);
    const error = JSON.parse(result.stderr) as { error: { code: string; field: string } };
    expect(error.error).toMatchObject({ code: 'SR_VALIDATION', field });
    expect(await redis.keys(`sf:{${ns}*`)).toEqual([]);
  });

  it.each([
    [['--persist-seconds', '0'], 'persistSeconds'],
    [['--persist-seconds', '2.5'], 'persistSeconds'],
    [['--persist-seconds', '-2'], 'persistSeconds'],
  ])('refuses %j (exit 2, field %s)', async (flags, field) => {
    const ns = uniqueNamespace('cli');
    const result = await cli([
      'link',
      'try',
      ns,
      'u',
      'room',
      '1',
      ...flags,
      '--redis',
      url,
      '--json',
    ]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'SR_VALIDATION', field } });
  });

  it('refuses a bad keep-seconds and a blank namespace', async () => {
    const keep = await cli([
      'link',
      'remove',
      'ns',
      'u',
      'room',
      '--keep-seconds',
      'x',
      '--redis',
      url,
    ]);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('keepSeconds');
    const blank = await cli(['state', 'get', ' ', 'room', '--redis', url]);
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain('namespace');
  });

  it('explains the missing target (exit 2) and refuses two targets', async () => {
    const none = await cli(['state', 'get', 'ns', 'room']);
    expect(none.code).toBe(2);
    for (const name of [
      '--redis',
      '--redis-cluster',
      '--server',
      'REDIS_URL',
      'STATEFUL_ROUTE_SERVER',
    ]) {
      expect(none.stderr).toContain(name);
    }
    const two = await cli([
      'state',
      'get',
      'ns',
      'room',
      '--redis',
      url,
      '--server',
      'http://127.0.0.1:9',
    ]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('only one target');
    const bad = await cli(['state', 'get', 'ns', 'room', '--redis', 'http://x']);
    expect(bad.code).toBe(2);
  });

  it('maps an unreachable Redis to exit 3 with a short message', async () => {
    const started = Date.now();
    const result = await cli([
      'state',
      'get',
      'ns',
      'room',
      '--redis',
      'redis://127.0.0.1:9',
      '--connect-timeout',
      '20000',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('cannot reach Redis at redis://127.0.0.1:9');
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr.split('\n').length).toBeLessThanOrEqual(2);
    // A refused connection is reported at once, not after the 20 s connect timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('hides the password of a Redis URL in messages', async () => {
    const result = await cli([
      'state',
      'get',
      'ns',
      'room',
      '--redis',
      'redis://:s3cret@127.0.0.1:9',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).not.toContain('s3cret');
  });

  it('answers usage errors of commander with exit 2 and help with exit 0', async () => {
    expect((await cli(['nope'])).code).toBe(2);
    expect((await cli(['link', 'get', 'ns'])).code).toBe(2);
    expect((await cli(['link', 'get', 'ns', 'u', 'room', '--bogus'])).code).toBe(2);
    const json = await cli(['link', 'get', 'ns', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'SR_CLI_USAGE' } });
    const help = await cli(['link', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--persist-seconds');
    const top = await cli(['--help']);
    expect(top.stdout).toContain('Exit codes:');
  });

  it('shows examples in the help of every command', async () => {
    const commands = [
      ['state', 'get'],
      ['state', 'set'],
      ['workload', 'get'],
      ['workload', 'set'],
      ['workload', 'query'],
      ['link', 'get'],
      ['link', 'set'],
      ['link', 'try'],
      ['link', 'set-if-absent'],
      ['link', 'remove'],
      ['link', 'list'],
      ['link', 'query'],
      ['bench'],
      ['analyze'],
      ['report'],
      ['doctor'],
      ['tune'],
    ];
    for (const command of commands) {
      const help = await cli([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout, command.join(' ')).toContain('Examples:\n  $ stateful-route ');
    }
  });

  it('colours errors only on a TTY without NO_COLOR', async () => {
    const argv = ['state', 'get', 'ns', 'room'];
    expect((await cli(argv, { stderrTTY: true })).stderr).toContain('\u001b[31m');
    expect((await cli(argv, { stderrTTY: true, env: { NO_COLOR: '1' } })).stderr).not.toContain(
      '\u001b[',
    );
    expect((await cli(argv)).stderr).not.toContain('\u001b[');
  });
});
