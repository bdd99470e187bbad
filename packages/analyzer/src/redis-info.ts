/**
 * Redis server figures from `INFO` (parsed by executor-core's `parseRedisInfo`): the
 * counters kept, summed over cluster masters, and the deltas between two readings, so a
 * report can split client-observed latency from time spent inside Redis.
 */
import { infoNumber, parseRedisInfo, type RedisInfo } from '@stateful-route/executor-core';
import type { CommandStatsDelta, RedisSnapshot } from './snapshot.js';

/**
 * What the analyzer needs of a Redis client: `info(section)`, and for a Cluster
 * `nodes('master')`. An ioredis `Redis` or `Cluster` fits as it is.
 */
export interface RedisInfoSource {
  info(...sections: string[]): Promise<string>;
  nodes?: (role: 'master') => Array<{ info(...sections: string[]): Promise<string> }>;
}

/** One reading of the counters we keep, summed over nodes. */
export interface RedisInfoReading {
  nodes: number;
  commandstats: Record<string, { calls: number; usec: number }>;
  fields: Record<string, number>;
}

const STAT_FIELDS = [
  'total_commands_processed',
  'instantaneous_ops_per_sec',
  'keyspace_hits',
  'keyspace_misses',
  'expired_keys',
  'evicted_keys',
  'rejected_connections',
  'total_net_input_bytes',
  'total_net_output_bytes',
  'used_memory',
  'maxmemory',
  'connected_clients',
] as const;

/** The counters we keep of one node's parsed `INFO` (executor-core's `parseRedisInfo`). */
function readingOf(info: RedisInfo): RedisInfoReading {
  const commandstats: RedisInfoReading['commandstats'] = {};
  for (const [command, { calls, usec }] of info.commandstats) {
    commandstats[command] = { calls, usec };
  }
  const fields: Record<string, number> = {};
  for (const name of STAT_FIELDS) {
    const number = infoNumber(info, name);
    if (number !== undefined) fields[name] = number;
  }
  return { nodes: 1, commandstats, fields };
}

function sumReadings(readings: RedisInfoReading[]): RedisInfoReading {
  const total: RedisInfoReading = { nodes: 0, commandstats: {}, fields: {} };
  for (const reading of readings) {
    total.nodes += reading.nodes;
    for (const [name, entry] of Object.entries(reading.commandstats)) {
      const sum = (total.commandstats[name] ??= { calls: 0, usec: 0 });
      sum.calls += entry.calls;
      sum.usec += entry.usec;
    }
    for (const [name, value] of Object.entries(reading.fields)) {
      total.fields[name] = (total.fields[name] ?? 0) + value;
    }
  }
  return total;
}

/** Reads `INFO` from a standalone server or from every master of a cluster, summed. */
export async function readRedisInfo(source: RedisInfoSource): Promise<RedisInfoReading> {
  const nodes = typeof source.nodes === 'function' ? source.nodes('master') : [source];
  // One INFO call per node with the sections we need (Redis 7 accepts several).
  const texts = await Promise.all(
    nodes.map((node) => node.info('commandstats', 'stats', 'memory', 'clients')),
  );
  return sumReadings(texts.map((text) => readingOf(parseRedisInfo(text))));
}

/** The figures between two readings (counters as deltas, gauges at the end). */
export function redisDelta(before: RedisInfoReading, after: RedisInfoReading): RedisSnapshot {
  const delta = (name: string): number =>
    Math.max(0, (after.fields[name] ?? 0) - (before.fields[name] ?? 0));
  const commandstats: Record<string, CommandStatsDelta> = {};
  for (const [name, entry] of Object.entries(after.commandstats)) {
    const previous = before.commandstats[name] ?? { calls: 0, usec: 0 };
    // A CONFIG RESETSTAT or a restart between readings makes counters go back: use the
    // later reading as it is, as Prometheus does for counter resets.
    const reset = entry.calls < previous.calls;
    const calls = reset ? entry.calls : entry.calls - previous.calls;
    const usec = reset ? entry.usec : entry.usec - previous.usec;
    // INFO is the analyzer's own probe, not the executor's traffic.
    if (calls === 0 || name === 'info') continue;
    commandstats[name] = { calls, usec, usecPerCall: Math.round((usec / calls) * 100) / 100 };
  }
  return {
    nodes: after.nodes,
    commandstats,
    stats: {
      totalCommandsProcessed: delta('total_commands_processed'),
      instantaneousOpsPerSec: after.fields.instantaneous_ops_per_sec ?? 0,
      keyspaceHits: delta('keyspace_hits'),
      keyspaceMisses: delta('keyspace_misses'),
      expiredKeys: delta('expired_keys'),
      evictedKeys: delta('evicted_keys'),
      rejectedConnections: delta('rejected_connections'),
      totalNetInputBytes: delta('total_net_input_bytes'),
      totalNetOutputBytes: delta('total_net_output_bytes'),
    },
    memory: { used: after.fields.used_memory ?? 0, max: after.fields.maxmemory ?? 0 },
    clients: after.fields.connected_clients ?? 0,
  };
}
