/**
 * `doctor` judges the target: a fresh redis-server of its own (so CONFIG SET here never
 * reaches another test's Redis), a replica of it, the shared 3-master cluster, and a closed
 * port, through the BUILT binary; the thresholds of each judgement on Redis' own text.
 */
import { existsSync } from 'node:fs';
import { freePort, startRedis, type RedisServer } from '@stateful-route/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisExecutor, parseRedisInfo } from '@stateful-route/executor-core';
import {
  judgeClusterInfo,
  judgeEvictionPolicy,
  judgeFragmentation,
  judgeLatency,
  judgePersistence,
  judgeRole,
  judgeSlowlog,
  judgeVersion,
} from '../src/redis-checks.js';
import { BIN, bin } from './helpers.js';

interface Check {
  id: string;
  status: 'ok' | 'info' | 'warn' | 'fail';
  value: string;
  reason?: string;
  node?: string;
}
interface DoctorJson {
  source: string;
  target: string;
  checks: Check[];
  summary: Record<Check['status'], number>;
}

const IDS = [
  'reachable',
  'version',
  'role',
  'cluster',
  'maxmemory',
  'maxmemory-policy',
  'persistence',
  'latency',
  'slowlog',
  'fragmentation',
  'scripts',
];

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  redis = await startRedis();
  admin = redis.client();
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

const doctor = async (...argv: string[]) => {
  const result = await bin(['doctor', ...argv, '--json']);
  return { ...result, json: JSON.parse(result.stdout || '{}') as DoctorJson };
};
const check = (json: DoctorJson, id: string): Check => {
  const found = json.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} check in ${JSON.stringify(json.checks)}`);
  return found;
};

describe('doctor on a Redis target', () => {
  it('passes a fresh redis-server (exit 0), every check listed, and writes nothing', async () => {
    const { code, stderr, json } = await doctor('--redis', redis.url);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(json.target).toBe('redis');
    expect(json.checks.map((c) => c.id)).toEqual(IDS);
    expect(json.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(check(json, 'role').value).toMatch(/^master/);
    expect(check(json, 'latency').value).toMatch(/^PING p50 .+, max .+ \(10 pings\)$/);
    // A fresh test server has no save schedule and no AOF: said, but not a failure.
    expect(check(json, 'persistence').status).toBe('warn');
    expect(check(json, 'fragmentation').reason).toContain('not judged');
    expect(json.summary.fail).toBe(0);
    expect(await admin.dbsize()).toBe(0);

    const human = await bin(['doctor', '--redis', redis.url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`doctor: ${redis.url}`);
    expect(human.stdout).toMatch(/^ok +maxmemory-policy +noeviction$/m);
    expect(human.stdout).toMatch(/0 failures$/m);
  });

  it('exits 1 on maxmemory-policy allkeys-lru and names it', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const { code, json } = await doctor('--redis', redis.url);
      expect(code).toBe(1);
      const policy = check(json, 'maxmemory-policy');
      expect(policy).toMatchObject({ status: 'fail', value: 'allkeys-lru' });
      expect(policy.reason).toContain('permanent links');
      const human = await bin(['doctor', '--redis', redis.url]);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/^FAIL +maxmemory-policy +allkeys-lru$/m);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('fails when used memory is at maxmemory', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(Math.ceil(used * 1.01)));
    try {
      const { code, json } = await doctor('--redis', redis.url);
      expect(code).toBe(1);
      expect(check(json, 'maxmemory').status).toBe('fail');
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
  });

  it('exits 1 on a warning with --strict (no persistence on the test server)', async () => {
    const { code, json } = await doctor('--redis', redis.url, '--strict');
    expect(json.summary.warn).toBeGreaterThan(0);
    expect(code).toBe(1);
  });

  it('counts slow log entries on stateful-route keys, and only those', async () => {
    await admin.config('SET', 'slowlog-log-slower-than', '0');
    try {
      await admin.slowlog('RESET');
      await admin.hgetall('other:key');
      expect(check((await doctor('--redis', redis.url)).json, 'slowlog').status).toBe('ok');
      await admin.hgetall('sf:{doctor-ns:state:room}');
      const { code, json } = await doctor('--redis', redis.url);
      const slowlog = check(json, 'slowlog');
      expect(slowlog.status).toBe('warn');
      expect(slowlog.value).toMatch(
        /^1 of \d+ entries on stateful-route keys, slowest .+ \(hgetall\)$/,
      );
      // A warning, not a failure.
      expect(code).toBe(0);
    } finally {
      await admin.config('SET', 'slowlog-log-slower-than', '10000');
      await admin.slowlog('RESET');
    }
  });

  it('says whether the scripts are all loaded', async () => {
    const scripts = async () => check((await doctor('--redis', redis.url)).json, 'scripts');
    expect(await scripts()).toMatchObject({ status: 'info', value: 'not all loaded' });
    const client = redis.client();
    const executor = createRedisExecutor({ redis: client, closeClients: true });
    try {
      await executor.loadScripts();
      expect(await scripts()).toMatchObject({ status: 'ok', value: 'loaded' });
    } finally {
      await executor.close();
      await admin.script('FLUSH');
    }
  });

  it('fails a replica: the executor writes', async () => {
    const replica = await startRedis({ args: ['--replicaof', redis.host, String(redis.port)] });
    try {
      const { code, json } = await doctor('--redis', replica.url);
      expect(code).toBe(1);
      expect(check(json, 'role')).toMatchObject({
        status: 'fail',
        value: `replica of ${redis.host}:${redis.port}`,
      });
    } finally {
      await replica.stop();
    }
  });

  it('exits 3 on a closed port, as every command does on an unreachable target', async () => {
    const port = await freePort();
    const result = await bin(['doctor', '--redis', `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('cannot reach Redis');
    expect(result.stderr).toContain('[SR_REDIS_CONNECTION]');
  });
});

describe('doctor on a Redis Cluster', () => {
  it('checks every master and the cluster state', async () => {
    const seeds = inject('clusterSeeds');
    const nodes = seeds.map((s) => `${s.host}:${s.port}`);
    const { code, json } = await doctor('--redis-cluster', nodes.join(','));
    expect(json.target).toBe('cluster');
    expect(json.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    const cluster = json.checks.filter((c) => c.id === 'cluster');
    expect(cluster.map((c) => c.node).sort()).toEqual([...nodes].sort());
    for (const c of cluster) expect(c.value).toMatch(/^cluster_state:ok, 16384\/16384 slots/);
    expect(json.checks.filter((c) => c.id === 'latency')).toHaveLength(seeds.length);
  });
});

describe('doctor judgements', () => {
  const info = (text: string) => parseRedisInfo(text);

  it('version: 6.2 and later are supported', () => {
    expect(judgeVersion(info('redis_version:6.2.0')).status).toBe('ok');
    expect(judgeVersion(info('redis_version:7.4.1')).status).toBe('ok');
    expect(judgeVersion(info('redis_version:6.0.16')).status).toBe('fail');
    expect(judgeVersion(info('redis_version:5.0.7')).status).toBe('fail');
  });

  it('role: a replica fails', () => {
    expect(judgeRole(info('role:master\nconnected_slaves:2')).value).toBe('master, 2 replica(s)');
    expect(judgeRole(info('role:slave\nmaster_host:10.0.0.1\nmaster_port:6379'))).toMatchObject({
      status: 'fail',
      value: 'replica of 10.0.0.1:6379',
    });
  });

  it('cluster state: anything but ok fails', () => {
    expect(judgeClusterInfo('cluster_state:ok\r\ncluster_slots_assigned:16384\r\n').status).toBe(
      'ok',
    );
    expect(judgeClusterInfo('cluster_state:fail\r\ncluster_slots_assigned:10000\r\n').status).toBe(
      'fail',
    );
    expect(
      judgeClusterInfo(
        'cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_pfail:5\r\n',
      ).status,
    ).toBe('warn');
  });

  it('eviction policy: allkeys-* fails, volatile-* warns, noeviction passes', () => {
    const policy = (p: string) => judgeEvictionPolicy(info(`maxmemory:0\nmaxmemory_policy:${p}`));
    expect(policy('allkeys-lru').status).toBe('fail');
    expect(policy('allkeys-random').status).toBe('fail');
    expect(policy('volatile-ttl').status).toBe('warn');
    expect(policy('noeviction').status).toBe('ok');
  });

  it('persistence: none warns, a failing save fails, RDB or AOF passes', () => {
    expect(judgePersistence(info('aof_enabled:0'), '').status).toBe('warn');
    expect(judgePersistence(info('aof_enabled:1'), '').value).toBe('AOF');
    expect(judgePersistence(info('aof_enabled:0'), '3600 1').value).toBe('RDB (save 3600 1)');
    expect(
      judgePersistence(info('aof_enabled:0\nrdb_last_bgsave_status:err'), '3600 1').status,
    ).toBe('fail');
    expect(judgePersistence(info('aof_enabled:0'), undefined).status).toBe('info');
  });

  it('fragmentation: judged only from 64 MiB used, warns above 1.5 and below 1', () => {
    const frag = (used: number, ratio: number) =>
      judgeFragmentation(info(`used_memory:${used}\nmem_fragmentation_ratio:${ratio}`)).status;
    const MiB = 1024 * 1024;
    expect(frag(1 * MiB, 9.5)).toBe('ok');
    expect(frag(100 * MiB, 1.2)).toBe('ok');
    expect(frag(100 * MiB, 1.8)).toBe('warn');
    expect(frag(100 * MiB, 0.7)).toBe('warn');
  });

  it('latency: p50 and max of the pings, a warning from a 10 ms median', () => {
    const fast = judgeLatency([0.2, 0.1, 0.3, 5]);
    expect(fast.status).toBe('ok');
    expect(fast.value).toContain('(4 pings)');
    expect(judgeLatency([12, 15, 11, 30]).status).toBe('warn');
  });

  it('slow log: only entries naming sf:{ keys count', () => {
    expect(judgeSlowlog([{ durationUs: 50_000, args: ['KEYS', '*'] }]).status).toBe('ok');
    const ours = judgeSlowlog([
      { durationUs: 20_000, args: ['evalsha', 'abc', '2', 'sf:{ns:lk:u}room', 'sf:{ns:lk:u}'] },
    ]);
    expect(ours.status).toBe('warn');
    expect(ours.value).toContain('(evalsha)');
  });
});
