/**
 * What `doctor` judges on a Redis target: the target itself (reachability, version, role,
 * cluster state, maxmemory and its policy, persistence, latency, slow log, scripts, memory
 * fragmentation), node by node on a cluster's masters. Read-only: INFO, CONFIG GET, SLOWLOG
 * GET, CLUSTER INFO, PING and SCRIPT EXISTS (through the executor's health check). Each
 * judgement is a pure function of what Redis answered, so its thresholds are tested on text.
 */
import { performance } from 'node:perf_hooks';
import {
  infoNumber,
  isCluster,
  parseRedisInfo,
  type RedisClient,
  type RedisExecutor,
  type RedisInfo,
} from '@stateful-route/executor-core';
import { DEFAULT_THRESHOLDS } from '@stateful-route/optimizer';
import type { Check } from './checks.js';
import { formatMs } from './output.js';

/** The oldest Redis the executor supports (apps/server and executor-core READMEs). */
export const MIN_REDIS_VERSION: readonly [number, number] = [6, 2];
/** PINGs sent to each node for the latency figure. */
export const LATENCY_PINGS = 10;
/** Median PING round trip (ms) from which latency is a warning: every call pays it at least once. */
export const LATENCY_P50_WARNING_MS = 10;
/** `mem_fragmentation_ratio` above which fragmentation is a warning. */
export const FRAGMENTATION_WARNING = 1.5;
/** `used_memory` below which the fragmentation ratio is not judged (it means nothing there). */
export const FRAGMENTATION_MIN_USED_BYTES = 64 * 1024 * 1024;
/** Slow log entries read. */
export const SLOWLOG_ENTRIES = 128;
/** The prefix of every key of the data model (`sf:{<ns>:...`). */
const KEY_PREFIX = 'sf:{';

/** A connection to one node, as much of ioredis' `Redis` as the checks use. */
export interface NodeConnection {
  call(command: string, ...args: string[]): Promise<unknown>;
  ping(): Promise<string>;
}

// ---- judgements of one reply --------------------------------------------------------

/** `redis_version` against the oldest supported version. */
export function judgeVersion(info: RedisInfo): Check {
  const version = info.fields.get('redis_version');
  if (version === undefined) {
    return { id: 'version', status: 'info', value: 'unknown', reason: 'INFO has no redis_version' };
  }
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor, minMinor] = MIN_REDIS_VERSION;
  const supported = major > minMajor || (major === minMajor && minor >= minMinor);
  return supported
    ? { id: 'version', status: 'ok', value: version }
    : {
        id: 'version',
        status: 'fail',
        value: version,
        reason: `below ${minMajor}.${minMinor}, the oldest Redis the executor supports`,
      };
}

/** `role`: the executor writes, so it needs a master. */
export function judgeRole(info: RedisInfo): Check {
  const role = info.fields.get('role');
  if (role === undefined) return { id: 'role', status: 'info', value: 'unknown' };
  if (role === 'master') {
    const replicas = infoNumber(info, 'connected_slaves') ?? 0;
    return { id: 'role', status: 'ok', value: `master, ${replicas} replica(s)` };
  }
  const master = [info.fields.get('master_host'), info.fields.get('master_port')]
    .filter(Boolean)
    .join(':');
  return {
    id: 'role',
    status: 'fail',
    value: master ? `replica of ${master}` : role,
    reason: 'a replica refuses the writes of the executor (READONLY): point it at the master',
  };
}

/** On a standalone target, a node with cluster mode on answers MOVED for most keys. */
export function judgeStandaloneMode(info: RedisInfo): Check {
  if (info.fields.get('cluster_enabled') === '1') {
    return {
      id: 'cluster',
      status: 'fail',
      value: 'cluster mode on, reached as a standalone server',
      reason:
        'keys of the other nodes answer MOVED: use --redis-cluster host:port (env REDIS_CLUSTER_NODES)',
    };
  }
  return { id: 'cluster', status: 'ok', value: 'standalone' };
}

/** `CLUSTER INFO` of a master: `cluster_state:ok` and every slot served. */
export function judgeClusterInfo(text: string): Check {
  const info = parseRedisInfo(text);
  const state = info.fields.get('cluster_state') ?? 'unknown';
  const assigned = infoNumber(info, 'cluster_slots_assigned');
  const failing =
    (infoNumber(info, 'cluster_slots_pfail') ?? 0) + (infoNumber(info, 'cluster_slots_fail') ?? 0);
  const value = `cluster_state:${state}, ${assigned ?? '?'}/16384 slots assigned, ${failing} failing`;
  if (state !== 'ok') {
    return {
      id: 'cluster',
      status: 'fail',
      value,
      reason: 'the cluster refuses commands until every slot is served (cluster_state must be ok)',
    };
  }
  if (failing > 0) {
    return {
      id: 'cluster',
      status: 'warn',
      value,
      reason: 'some slots are served by a node other nodes suspect of failing',
    };
  }
  return { id: 'cluster', status: 'ok', value };
}

/** `used_memory` against `maxmemory`, with the optimizer's thresholds. */
export function judgeMaxmemory(info: RedisInfo): Check {
  const used = infoNumber(info, 'used_memory');
  const max = infoNumber(info, 'maxmemory');
  const usedText = info.fields.get('used_memory_human') ?? String(used ?? '?');
  if (max === undefined || used === undefined) {
    return { id: 'maxmemory', status: 'info', value: 'unknown', reason: 'INFO memory lacks it' };
  }
  if (max === 0) {
    return {
      id: 'maxmemory',
      status: 'ok',
      value: `no limit, ${usedText} used`,
      reason: 'Redis grows until the machine or container runs out; set maxmemory to bound it',
    };
  }
  const ratio = used / max;
  const maxText = info.fields.get('maxmemory_human') ?? String(max);
  const value = `${usedText} of ${maxText} (${(ratio * 100).toFixed(1)}%)`;
  const { memoryRatioWarning: warning, memoryRatioCritical: critical } = DEFAULT_THRESHOLDS;
  if (ratio >= critical) {
    return {
      id: 'maxmemory',
      status: 'fail',
      value,
      reason: `at or above ${critical * 100}% of maxmemory: writes fail or keys are evicted next`,
    };
  }
  if (ratio >= warning) {
    return {
      id: 'maxmemory',
      status: 'warn',
      value,
      reason: `at or above ${warning * 100}% of maxmemory: raise it or remove stale links`,
    };
  }
  return { id: 'maxmemory', status: 'ok', value };
}

/**
 * `maxmemory_policy`: pod states, workload states and permanent links have no TTL, so a policy
 * that evicts any key loses them silently; one that evicts keys with a TTL drops temporary
 * links before their time.
 */
export function judgeEvictionPolicy(info: RedisInfo): Check {
  const policy = info.fields.get('maxmemory_policy');
  if (policy === undefined) {
    return { id: 'maxmemory-policy', status: 'info', value: 'unknown' };
  }
  const max = infoNumber(info, 'maxmemory') ?? 0;
  const inEffect = max === 0 ? ' (not in effect until maxmemory is set)' : '';
  if (policy.startsWith('allkeys-')) {
    return {
      id: 'maxmemory-policy',
      status: 'fail',
      value: policy,
      reason: `evicts any key when memory is full, permanent links and pod states included${inEffect}: use noeviction`,
    };
  }
  if (policy.startsWith('volatile-')) {
    return {
      id: 'maxmemory-policy',
      status: 'warn',
      value: policy,
      reason: `evicts keys with a TTL when memory is full, so temporary links may vanish before they expire${inEffect}: noeviction is safer`,
    };
  }
  return { id: 'maxmemory-policy', status: 'ok', value: policy };
}

/**
 * Persistence: RDB snapshots (`save`, from CONFIG GET; `undefined` when CONFIG is refused)
 * or AOF. None is a warning (a restart loses every link and state); a failing save or AOF
 * write is a failure (with `stop-writes-on-bgsave-error`, Redis refuses writes).
 */
export function judgePersistence(info: RedisInfo, save: string | undefined): Check {
  const aof = info.fields.get('aof_enabled') === '1';
  const rdb = save === undefined ? undefined : save.trim() !== '';
  const kinds = [...(rdb === true ? [`RDB (save ${save!.trim()})`] : []), ...(aof ? ['AOF'] : [])];
  const bgsave = info.fields.get('rdb_last_bgsave_status');
  const aofWrite = info.fields.get('aof_last_write_status');
  if (bgsave === 'err' || (aof && aofWrite === 'err')) {
    return {
      id: 'persistence',
      status: 'fail',
      value: `${kinds.join(' + ') || 'configured'}; last ${bgsave === 'err' ? 'RDB save' : 'AOF write'} failed`,
      reason: 'Redis may refuse writes until persistence works again (see its log)',
    };
  }
  if (kinds.length > 0) return { id: 'persistence', status: 'ok', value: kinds.join(' + ') };
  if (rdb === undefined) {
    return {
      id: 'persistence',
      status: 'info',
      value: 'AOF off, RDB unknown',
      reason: 'CONFIG GET save was refused, so RDB snapshots could not be checked',
    };
  }
  return {
    id: 'persistence',
    status: 'warn',
    value: 'none (no RDB snapshots, AOF off)',
    reason: 'a restart loses every link and state: enable appendonly or a save schedule',
  };
}

/** `mem_fragmentation_ratio`, judged only once there is enough data for it to mean something. */
export function judgeFragmentation(info: RedisInfo): Check {
  const ratio = infoNumber(info, 'mem_fragmentation_ratio');
  const used = infoNumber(info, 'used_memory');
  if (ratio === undefined || used === undefined) {
    return { id: 'fragmentation', status: 'info', value: 'unknown' };
  }
  const value = `ratio ${ratio.toFixed(2)}`;
  if (used < FRAGMENTATION_MIN_USED_BYTES) {
    return {
      id: 'fragmentation',
      status: 'ok',
      value,
      reason: `not judged below ${FRAGMENTATION_MIN_USED_BYTES / 1024 / 1024} MiB used (the ratio means nothing on a small dataset)`,
    };
  }
  if (ratio > FRAGMENTATION_WARNING) {
    return {
      id: 'fragmentation',
      status: 'warn',
      value,
      reason: `above ${FRAGMENTATION_WARNING}: RSS well above used memory; consider activedefrag yes`,
    };
  }
  if (ratio < 1) {
    return {
      id: 'fragmentation',
      status: 'warn',
      value,
      reason: 'below 1: RSS under used memory, the OS may be swapping Redis out',
    };
  }
  return { id: 'fragmentation', status: 'ok', value };
}

/** PING round trips (ms): p50 and max. */
export function judgeLatency(samplesMs: readonly number[]): Check {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  const max = sorted.at(-1) ?? 0;
  const value = `PING p50 ${formatMs(p50)}, max ${formatMs(max)} (${sorted.length} pings)`;
  if (p50 >= LATENCY_P50_WARNING_MS) {
    return {
      id: 'latency',
      status: 'warn',
      value,
      reason: `median round trip at or above ${LATENCY_P50_WARNING_MS} ms: every call waits at least this long`,
    };
  }
  return { id: 'latency', status: 'ok', value };
}

/** One `SLOWLOG GET` entry, as far as the check reads it. */
export interface SlowlogEntry {
  durationUs: number;
  args: string[];
}

/** Reads the reply of `SLOWLOG GET`: `[id, time, durationUs, args, client, name]` entries. */
export function parseSlowlog(reply: unknown): SlowlogEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply
    .filter((e): e is unknown[] => Array.isArray(e) && Array.isArray(e[3]))
    .map((e) => ({ durationUs: Number(e[2]), args: (e[3] as unknown[]).map(String) }));
}

/** Slow log entries of our keys (a script call or a read whose key is `sf:{...`). */
export function judgeSlowlog(entries: readonly SlowlogEntry[]): Check {
  const ours = entries.filter((e) => e.args.some((arg) => arg.startsWith(KEY_PREFIX)));
  const value = `${ours.length} of ${entries.length} entries on stateful-route keys`;
  if (ours.length >= DEFAULT_THRESHOLDS.slowScriptEntriesMin && ours.length > 0) {
    const slowest = ours.reduce((a, b) => (b.durationUs > a.durationUs ? b : a));
    return {
      id: 'slowlog',
      status: 'warn',
      value: `${value}, slowest ${formatMs(slowest.durationUs / 1000)} (${slowest.args[0] ?? '?'})`,
      reason:
        'our calls touch one or two keys and should take microseconds: check CPU, LATENCY DOCTOR and the size of link index hashes',
    };
  }
  return { id: 'slowlog', status: 'ok', value };
}

/** SCRIPT EXISTS of the executor's scripts (through its health check). */
export function judgeScripts(loaded: boolean): Check {
  return loaded
    ? { id: 'scripts', status: 'ok', value: 'loaded' }
    : {
        id: 'scripts',
        status: 'info',
        value: 'not all loaded',
        reason:
          'normal on a fresh or restarted Redis: the executor sends a missing script on its first use (NOSCRIPT -> reload)',
      };
}

// ---- asking Redis --------------------------------------------------------------------

async function pingTimes(node: NodeConnection, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await node.ping();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function configValue(node: NodeConnection, name: string): Promise<string | undefined> {
  try {
    const reply = await node.call('CONFIG', 'GET', name);
    return Array.isArray(reply) && reply.length >= 2 ? String(reply[1]) : undefined;
  } catch {
    // Renamed or refused (managed Redis often blocks CONFIG): not known.
    return undefined;
  }
}

/** The checks of one node; a node that stops answering is a failed `reachable` check. */
async function checkNode(
  node: NodeConnection,
  label: string | undefined,
  standalone: boolean,
  pings: number,
): Promise<Check[]> {
  const at = <T extends Check>(check: T): T =>
    label === undefined ? check : { ...check, node: label };
  let info: RedisInfo;
  let latency: number[];
  try {
    latency = await pingTimes(node, pings);
    info = parseRedisInfo(String(await node.call('INFO')));
  } catch (error) {
    return [
      at({
        id: 'reachable',
        status: 'fail',
        value: 'no answer',
        reason: (error as Error).message,
      }),
    ];
  }
  const checks: Check[] = [
    { id: 'reachable', status: 'ok', value: 'PONG' },
    judgeVersion(info),
    judgeRole(info),
  ];
  if (standalone) checks.push(judgeStandaloneMode(info));
  else {
    try {
      checks.push(judgeClusterInfo(String(await node.call('CLUSTER', 'INFO'))));
    } catch (error) {
      checks.push({
        id: 'cluster',
        status: 'fail',
        value: 'CLUSTER INFO failed',
        reason: (error as Error).message,
      });
    }
  }
  checks.push(
    judgeMaxmemory(info),
    judgeEvictionPolicy(info),
    judgePersistence(info, await configValue(node, 'save')),
    judgeLatency(latency),
  );
  try {
    checks.push(
      judgeSlowlog(parseSlowlog(await node.call('SLOWLOG', 'GET', String(SLOWLOG_ENTRIES)))),
    );
  } catch (error) {
    checks.push({
      id: 'slowlog',
      status: 'info',
      value: 'unreadable',
      reason: (error as Error).message,
    });
  }
  checks.push(judgeFragmentation(info));
  return checks.map(at);
}

/** What `checkRedisTarget` needs: the connected client and the executor on it. */
export interface RedisTargetSource {
  client: RedisClient;
  executor: Pick<RedisExecutor, 'checkHealth'>;
  /** PINGs per node (default `LATENCY_PINGS`). */
  pings?: number;
}

/**
 * Judges a connected Redis target: every check on the server, or on each master of a
 * cluster, then whether the executor's scripts are in Redis' script cache.
 */
export async function checkRedisTarget(source: RedisTargetSource): Promise<Check[]> {
  const pings = source.pings ?? LATENCY_PINGS;
  const { client } = source;
  const checks: Check[] = [];
  if (isCluster(client)) {
    const masters = client.nodes('master');
    if (masters.length === 0) {
      checks.push({
        id: 'cluster',
        status: 'fail',
        value: 'no master known',
        reason: 'the seeds answered, but the cluster map lists no master',
      });
    }
    for (const master of masters) {
      const label = `${master.options.host ?? '?'}:${master.options.port ?? '?'}`;
      checks.push(...(await checkNode(master, label, false, pings)));
    }
  } else {
    checks.push(...(await checkNode(client, undefined, true, pings)));
  }
  const health = await source.executor.checkHealth();
  checks.push(
    health.ok
      ? judgeScripts(health.scriptsLoaded)
      : { id: 'scripts', status: 'info', value: 'unknown', reason: health.reason ?? 'no answer' },
  );
  return checks;
}
