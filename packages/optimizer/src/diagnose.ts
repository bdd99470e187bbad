/** One call for a server route: gather the evidence from live objects and evaluate it. */
import type { AnalysisSnapshot, Analyzer } from '@stateful-route/analyzer';
import {
  infoNumber,
  parseRedisInfo,
  type StatefulExecutor,
  type TunableExecutor,
} from '@stateful-route/executor-core';
import { evaluate } from './evaluate.js';
import type { Finding, RedisFigures } from './finding.js';
import type { Thresholds } from './thresholds.js';

/** A Redis connection able to answer `INFO memory` and `SLOWLOG GET` (an ioredis `Redis`). */
export interface RedisFiguresSource {
  info(section: 'memory'): Promise<string>;
  slowlog(subcommand: 'GET', count: number): Promise<unknown>;
}

/** Options of `diagnose`. */
export interface DiagnoseOptions {
  analyzer: Analyzer;
  executor: StatefulExecutor | TunableExecutor;
  /** Read `INFO memory` and `SLOWLOG GET 128` from it. */
  redis?: RedisFiguresSource;
  /** A snapshot already captured (a report shows the same one); default `analyzer.capture()`. */
  snapshot?: AnalysisSnapshot;
  thresholds?: Partial<Thresholds>;
}

/**
 * Reads `INFO memory` and `SLOWLOG GET` from Redis. Figures it cannot read are left out
 * (a finding needs evidence; a failed read is not evidence).
 */
export async function readRedisFigures(redis: RedisFiguresSource): Promise<RedisFigures> {
  const figures: RedisFigures = {};
  try {
    const info = parseRedisInfo(await redis.info('memory'));
    const used = infoNumber(info, 'used_memory');
    const max = infoNumber(info, 'maxmemory');
    if (used !== undefined) figures.usedMemory = used;
    if (max !== undefined) figures.maxMemory = max;
  } catch {
    // Left out.
  }
  try {
    const entries = await redis.slowlog('GET', 128);
    if (Array.isArray(entries)) {
      figures.slowlog = entries
        .filter((e): e is unknown[] => Array.isArray(e) && Array.isArray(e[3]))
        .map((e) => ({
          id: Number(e[0]),
          durationUs: Number(e[2]),
          command: String((e[3] as unknown[])[0] ?? ''),
        }));
    }
  } catch {
    // Left out.
  }
  return figures;
}

/**
 * Gathers the analyzer's snapshot (with fresh Redis INFO deltas), the executor's description
 * and counters, and Redis memory and slow log figures, and evaluates the rules.
 * @example
 * app.get('/v1/optimizations', async () => diagnose({ analyzer, executor, redis }));
 */
export async function diagnose(options: DiagnoseOptions): Promise<Finding[]> {
  const snapshot = options.snapshot ?? (await options.analyzer.capture());
  const redis = options.redis ? await readRedisFigures(options.redis) : undefined;
  return evaluate({
    snapshot,
    description: options.executor.describe(),
    stats: options.executor.stats(),
    ...(redis ? { redis } : {}),
    ...(options.thresholds ? { thresholds: options.thresholds } : {}),
  });
}
