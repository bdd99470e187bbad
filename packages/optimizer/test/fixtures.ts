/** Hand-built snapshots and descriptions for rule tests. */
import {
  SNAPSHOT_SCHEMA_VERSION,
  emptyErrorsByType,
  type AnalysisSnapshot,
  type OperationSnapshot,
} from '@stateful-route/analyzer';
import {
  ZERO_EXECUTOR_STATS,
  type ExecutorDescription,
  type ExecutorStats,
} from '@stateful-route/executor-core';

export interface OpSpec {
  count: number;
  cached?: number;
  p50?: number;
  p99?: number;
  mean?: number;
  errors?: Partial<
    Record<'validation' | 'connection' | 'timeout' | 'script' | 'cluster' | 'other', number>
  >;
  /** Counts per 1 s slice. */
  slices?: number[];
}

export function op(seconds: number, spec: OpSpec): OperationSnapshot {
  const errorsByType = { ...emptyErrorsByType(), ...spec.errors };
  const errors = Object.values(errorsByType).reduce((a, b) => a + b, 0);
  const p50 = spec.p50 ?? 0.2;
  const p99 = spec.p99 ?? 1;
  const mean = spec.mean ?? p50;
  return {
    count: spec.count,
    errors,
    errorsByType,
    throughput: spec.count / seconds,
    cached: spec.cached ?? 0,
    latency: {
      unit: 'ms',
      estimated: false,
      min: 0.01,
      mean,
      p50,
      p90: p99,
      p95: p99,
      p99,
      p999: p99,
      max: p99,
    },
    histogram: {
      unit: 'us',
      bounds: [p50 * 1000, p99 * 1000],
      counts: [Math.round(spec.count * 0.98), spec.count - Math.round(spec.count * 0.98)],
      overflow: 0,
    },
    timeline: (spec.slices ?? [spec.count]).map((count, t) => ({ t, count, errors: 0, p99 })),
  };
}

export const ZERO_STATS: ExecutorStats = { ...ZERO_EXECUTOR_STATS };

export function snapshot(
  operations: Record<string, OpSpec>,
  extra: Partial<AnalysisSnapshot> = {},
  seconds = 10,
): AnalysisSnapshot {
  const ops = Object.fromEntries(
    Object.entries(operations).map(([name, spec]) => [name, op(seconds, spec)]),
  );
  const count = Object.values(ops).reduce((a, o) => a + o.count, 0);
  const errors = Object.values(ops).reduce((a, o) => a + o.errors, 0);
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    source: 'live',
    provenance: {
      packages: {},
      node: process.version,
      backend: 'redis',
      topology: 'standalone',
      scriptTransport: 'evalsha',
      autoPipelining: false,
      connections: 1,
      nearCache: { enabled: false, maxEntries: 100_000 },
      executor: 'test',
      startedAt: new Date(0).toISOString(),
      endedAt: new Date(seconds * 1000).toISOString(),
      durationSeconds: seconds,
    },
    operations: ops,
    totals: { count, errors, errorRate: count ? errors / count : 0, throughput: count / seconds },
    ...extra,
  };
}

export function description(overrides: Partial<ExecutorDescription> = {}): ExecutorDescription {
  return {
    name: 'test',
    backend: 'redis',
    topology: 'standalone',
    scriptTransport: 'evalsha',
    autoPipelining: false,
    connections: 1,
    nearCache: { enabled: false, maxEntries: 100_000 },
    ...overrides,
  };
}

export function redisFigures(commandstats: Record<string, { calls: number; usec: number }>) {
  return {
    nodes: 1,
    commandstats: Object.fromEntries(
      Object.entries(commandstats).map(([k, v]) => [k, { ...v, usecPerCall: v.usec / v.calls }]),
    ),
    stats: {
      totalCommandsProcessed: 0,
      instantaneousOpsPerSec: 0,
      keyspaceHits: 0,
      keyspaceMisses: 0,
      expiredKeys: 0,
      evictedKeys: 0,
      rejectedConnections: 0,
      totalNetInputBytes: 0,
      totalNetOutputBytes: 0,
    },
    memory: { used: 0, max: 0 },
    clients: 1,
  };
}
