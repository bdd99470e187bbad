/**
 * Redis server figures from `INFO`: parsing, summing over cluster masters, and the deltas
 * between two readings, so a report can split client-observed latency from time spent
 * inside Redis.
 */
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

/** Parses the text of `INFO` (any sections) into a reading of one node. */
export function parseInfo(text: string): RedisInfoReading {
  const commandstats: RedisInfoReading['commandstats'] = {};
  const fields: Record<string, number> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (key.startsWith('cmdstat_')) {
      // cmdstat_evalsha:calls=10,usec=120,usec_per_call=12.00,rejected_calls=0,failed_calls=0
      const entry = { calls: 0, usec: 0 };
      for (const part of value.split(',')) {
        const [name, number] = part.split('=');
        if (name === 'calls') entry.calls = Number(number);
        else if (name === 'usec') entry.usec = Number(number);
      }
      commandstats[key.slice('cmdstat_'.length).toLowerCase()] = entry;
    } else if ((STAT_FIELDS as readonly string[]).includes(key)) {
      const number = Number(value);
      if (Number.isFinite(number)) fields[key] = number;
    }
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
  return sumReadings(texts.map(parseInfo));
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
