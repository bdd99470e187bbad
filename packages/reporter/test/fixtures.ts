import { compare, createAnalyzer } from '@stateful-route/analyzer';
import type { AnalysisSnapshot, Comparison } from '@stateful-route/analyzer';
import type { ReportFinding } from '@stateful-route/reporter';

/** mulberry32: reproducible synthetic latencies. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIX: [string, number, number][] = [
  // operation, calls per slice, median ms
  ['getServiceState', 400, 0.45],
  ['setLinkedPodIfAbsent', 260, 0.7],
  ['setServiceState', 70, 0.5],
  ['getLinkedPod', 70, 0.4],
  ['trySetLinkedPod', 45, 0.75],
  ['getWorkloadState', 18, 0.4],
  ['setWorkloadState', 18, 0.45],
];

/**
 * A deterministic 10-second run recorded through a real analyzer with an injected clock;
 * provenance, process and Redis figures are fixed so that golden files stay stable.
 */
export function syntheticSnapshot(
  seed: number,
  options: { slowdown?: Record<string, number>; errors?: Record<string, number> } = {},
): AnalysisSnapshot {
  let clock = Date.UTC(2026, 10, 28, 12, 0, 0);
  const start = clock;
  const analyzer = createAnalyzer({ executor: 'bench', now: () => clock, processMetrics: false });
  const r = random(seed);
  for (let slice = 0; slice < 10; slice += 1) {
    clock = start + slice * 1000 + 5;
    for (const [operation, perSlice, median] of MIX) {
      const calls = perSlice + Math.floor((r() - 0.5) * perSlice * 0.1);
      for (let i = 0; i < calls; i += 1) {
        const noise = Math.exp((r() + r() + r() - 1.5) * 0.5);
        const tail = r() < 0.01 ? 4 : 1;
        analyzer.record({
          operation,
          durationMs: median * noise * tail * (options.slowdown?.[operation] ?? 1),
        });
      }
      const errors = options.errors?.[operation] ?? 0;
      if (slice === 7) {
        for (let i = 0; i < errors; i += 1) {
          analyzer.record({ operation, durationMs: 1000, errorType: 'timeout' });
        }
      }
    }
  }
  clock = start + 10_000;
  const snapshot = analyzer.snapshot();
  analyzer.close();
  snapshot.provenance = {
    ...snapshot.provenance,
    packages: { '@stateful-route/analyzer': '0.1.0', '@stateful-route/executor-core': '0.1.0' },
    node: 'v20.20.2',
    backend: 'redis',
    topology: 'standalone',
    scriptTransport: 'evalsha',
    autoPipelining: false,
    connections: 1,
    nearCache: { enabled: false, maxEntries: 0 },
  };
  snapshot.concurrency = { maxInFlight: 64, meanInFlight: 61.8 };
  snapshot.process = {
    eventLoopDelay: { p50: 10.2, p99: 14.9, max: 21.3, mean: 10.6 },
    heapUsed: 48_234_496,
    rss: 131_072_000,
    gc: { count: 41, totalMs: 58.4, maxMs: 4.1 },
  };
  snapshot.redis = {
    nodes: 1,
    commandstats: {
      evalsha: { calls: 3400, usec: 20400, usecPerCall: 6 },
      hgetall: { calls: 4000, usec: 8000, usecPerCall: 2 },
      hset: { calls: 700, usec: 1400, usecPerCall: 2 },
      get: { calls: 880, usec: 1320, usecPerCall: 1.5 },
    },
    stats: {
      totalCommandsProcessed: 8980,
      instantaneousOpsPerSec: 898,
      keyspaceHits: 5200,
      keyspaceMisses: 1800,
      expiredKeys: 0,
      evictedKeys: 0,
      rejectedConnections: 0,
      totalNetInputBytes: 1_200_000,
      totalNetOutputBytes: 2_400_000,
    },
    memory: { used: 2_345_678, max: 0 },
    clients: 3,
  };
  snapshot.executorStats = {
    scriptCallsBySha: 3400,
    scriptCallsByText: 0,
    noscriptReloads: 0,
    scriptsLoaded: 5,
    nearCacheHits: 0,
    nearCacheMisses: 0,
    nearCacheInvalidations: 0,
    reconnects: 0,
  };
  return snapshot;
}

export const baseline = (): AnalysisSnapshot => syntheticSnapshot(1);
export const current = (): AnalysisSnapshot =>
  syntheticSnapshot(2, { slowdown: { getServiceState: 2 }, errors: { getLinkedPod: 3 } });

export function comparison(): Comparison {
  return compare(baseline(), current(), {
    thresholds: ['getServiceState.p99<2ms', 'p99<5ms', 'errorRate<1%', 'throughput>500'],
  });
}

export const findings: ReportFinding[] = [
  {
    id: 'near-cache',
    severity: 'warning',
    title: 'getServiceState is read far more often than written',
    evidence: [
      {
        metric: 'reads per write',
        observed: 5.7,
        threshold: 3,
        unit: 'ratio',
        window: '10 s',
        operation: 'getServiceState',
      },
    ],
    recommendation: 'Enable the near cache so hot reads are served without a round trip.',
    action: {
      id: 'enable-near-cache',
      description: 'Turn on the invalidation-backed near cache.',
      safe: true,
    },
  },
  {
    id: 'error-rate:timeout',
    severity: 'critical',
    title: 'Timeouts on getLinkedPod',
    evidence: [
      {
        metric: 'timeout errors per call',
        observed: 0.0043,
        threshold: 0.001,
        unit: 'ratio',
        window: '10 s',
        operation: 'getLinkedPod',
      },
    ],
    recommendation:
      'Check the Redis latency and the command timeout; the server is answering late.',
  },
];
