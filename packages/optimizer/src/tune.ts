/**
 * Trials: each candidate configuration runs the same workload for a short time, and the best
 * by throughput wins, provided it made no error and kept its p99 within a guard of the
 * baseline's. Every trial is reported, with why it won or lost.
 */
import { runWorkload, type AnalysisSnapshot, type WorkloadOptions } from '@stateful-route/analyzer';
import type { ScriptTransport, TunableExecutor } from '@stateful-route/executor-core';
import { OptimizerOptionError } from './errors.js';
import { overallPercentile, round } from './figures.js';

/** One configuration of the executor's run-time switches. */
export interface TuneConfiguration {
  scriptTransport: ScriptTransport;
  autoPipelining: boolean;
  connections: number;
  nearCache: boolean;
}

/** Options of `tune`. */
export interface TuneOptions {
  /** The workload of every trial (`durationMs` is replaced by `trialMs`). */
  workload: Omit<WorkloadOptions, 'durationMs' | 'analyzer'> & { durationMs?: number };
  /** Measured length of each trial, in ms. */
  trialMs: number;
  /** Unmeasured warm-up before each trial, in ms. Default a quarter of `trialMs`, at most 500. */
  warmupMs?: number;
  /** Configurations to try after the baseline. Default: `defaultCandidates()`. */
  candidates?: readonly TuneConfiguration[];
  /** A candidate's p99 may be at most this multiple of the baseline's. Default 1.5. */
  p99GuardRatio?: number;
  /**
   * Rounds: every configuration is measured this many times, round-robin, and its median
   * round counts (a noisy machine then skews one round, not one configuration). Default 1.
   */
  rounds?: number;
  /** With an executor: leave it in the winner's configuration. Default true. */
  apply?: boolean;
  /** Called after each trial (for progress output). */
  onTrial?: (trial: Trial) => void;
}

/** The outcome of one trial. */
export interface Trial {
  label: string;
  configuration: TuneConfiguration;
  /** Completed calls per second. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over the rounds. */
  operations: number;
  errors: number;
  nearCacheHits: number;
  /** Throughput of each round, in order. */
  rounds: number[];
  /** Passed the guards (no errors, p99 within the guard). */
  eligible: boolean;
  /** Why it did not win (or `winner`). */
  verdict: string;
  snapshot?: AnalysisSnapshot;
}

/** What `tune` found. */
export interface TuneResult {
  /** The configuration the executor had (or the factory gives), measured first. */
  baseline: Trial;
  /** Every trial, baseline first. */
  trials: Trial[];
  winner: Trial;
  /** Why the winner won, in one paragraph. */
  reason: string;
  /** Throughput of the winner / throughput of the baseline. */
  speedup: number;
  /** Whether the executor was left in the winner's configuration. */
  applied: boolean;
}

type Sample = Awaited<ReturnType<typeof runWorkload>>;

/** Makes a fresh executor for a trial (closed by `tune` after it). */
export type ExecutorFactory = () => TunableExecutor | Promise<TunableExecutor>;

/** The configurations tried by default: transport, autopipelining, connections 1/2, near cache. */
export function defaultCandidates(): TuneConfiguration[] {
  const out: TuneConfiguration[] = [];
  for (const nearCache of [false, true]) {
    for (const [autoPipelining, connections] of [
      [false, 1],
      [true, 1],
      [false, 2],
      [true, 2],
    ] as const) {
      out.push({ scriptTransport: 'evalsha', autoPipelining, connections, nearCache });
    }
  }
  return out;
}

/** A short label such as `evalsha, pipelining, 2 conns, near cache`. */
export function labelOf(c: TuneConfiguration): string {
  return [
    c.scriptTransport,
    c.autoPipelining ? 'pipelining' : 'no pipelining',
    `${c.connections} conn${c.connections === 1 ? '' : 's'}`,
    c.nearCache ? 'near cache' : 'no cache',
  ].join(', ');
}

function configurationOf(executor: TunableExecutor): TuneConfiguration {
  const d = executor.describe();
  return {
    scriptTransport: d.scriptTransport ?? 'evalsha',
    autoPipelining: d.autoPipelining ?? false,
    connections: d.connections,
    nearCache: d.nearCache?.enabled ?? false,
  };
}

function same(a: TuneConfiguration, b: TuneConfiguration): boolean {
  return (
    a.scriptTransport === b.scriptTransport &&
    a.autoPipelining === b.autoPipelining &&
    a.connections === b.connections &&
    a.nearCache === b.nearCache
  );
}

/** Puts an executor in a configuration with its run-time switches. */
export async function configure(executor: TunableExecutor, c: TuneConfiguration): Promise<void> {
  if (c.scriptTransport === 'evalsha') await executor.loadScripts();
  executor.setScriptTransport(c.scriptTransport);
  executor.setAutoPipelining(c.autoPipelining);
  await executor.setConnectionCount(c.connections);
  if (c.nearCache && !executor.nearCacheEnabled) await executor.enableNearCache();
  if (!c.nearCache && executor.nearCacheEnabled) await executor.disableNearCache();
}

/**
 * Tries the baseline and each candidate configuration under the same workload, and picks
 * the one with the highest throughput among those with no error and a p99 within
 * `p99GuardRatio` of the baseline's. With an executor, the switches are flipped in place
 * (and the winner kept unless `apply: false`); with a factory, each trial gets a fresh one.
 * @example
 * const result = await tune(executor, { workload: { concurrency: 64 }, trialMs: 2000 });
 * console.log(result.reason);
 * @throws SR_OPTIMIZER_INVALID_OPTION for a bad trialMs, warmupMs or p99GuardRatio
 */
export async function tune(
  target: TunableExecutor | ExecutorFactory,
  options: TuneOptions,
): Promise<TuneResult> {
  const { trialMs } = options;
  if (!Number.isFinite(trialMs) || trialMs <= 0) {
    throw new OptimizerOptionError('trialMs', 'must be a positive number of milliseconds');
  }
  const warmupMs = options.warmupMs ?? Math.min(500, trialMs / 4);
  if (!Number.isFinite(warmupMs) || warmupMs < 0) {
    throw new OptimizerOptionError('warmupMs', 'must be a number of milliseconds >= 0');
  }
  const guard = options.p99GuardRatio ?? 1.5;
  if (!Number.isFinite(guard) || guard < 1) {
    throw new OptimizerOptionError('p99GuardRatio', 'must be a number >= 1');
  }
  const inPlace = typeof target !== 'function';
  const factory: ExecutorFactory = inPlace ? () => target : target;

  const rounds = options.rounds ?? 1;
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 10) {
    throw new OptimizerOptionError('rounds', 'must be an integer from 1 to 10');
  }

  let prepared = false;
  const measure = async (
    configuration: TuneConfiguration | undefined,
  ): Promise<{ configuration: TuneConfiguration; snapshot: AnalysisSnapshot; result: Sample }> => {
    const executor = await factory();
    try {
      if (configuration) await configure(executor, configuration);
      const actual = configurationOf(executor);
      const workload = { ...options.workload };
      if (warmupMs > 0) {
        await runWorkload(executor, { ...workload, durationMs: warmupMs, prepare: !prepared });
        prepared = true;
      }
      const result = await runWorkload(executor, {
        ...workload,
        durationMs: trialMs,
        prepare: !prepared,
      });
      prepared = true;
      return { configuration: actual, snapshot: result.snapshot, result };
    } finally {
      if (!inPlace) await executor.close();
    }
  };

  // In place, the baseline is what the executor has now; a factory's executors start in it.
  const start = inPlace ? configurationOf(target) : undefined;
  const plans: {
    configuration: TuneConfiguration | undefined;
    samples: Sample[];
    failure?: string;
    actual?: TuneConfiguration;
    snapshots: AnalysisSnapshot[];
  }[] = [{ configuration: start, samples: [], snapshots: [] }];
  for (let pass = 0; pass < rounds; pass++) {
    // Round-robin; in the first round the candidates join once the baseline is measured.
    for (let index = 0; index < plans.length; index++) {
      const plan = plans[index]!;
      if (plan.failure) continue;
      let measured: Awaited<ReturnType<typeof measure>>;
      try {
        measured = await measure(plan.configuration);
      } catch (error) {
        if (index === 0) throw error;
        // A candidate that cannot be configured fails once and is not retried.
        const code = (error as { code?: unknown }).code;
        plan.failure = `could not be configured: ${typeof code === 'string' ? `${code} ` : ''}${(error as Error).message}`;
        continue;
      }
      plan.samples.push(measured.result);
      plan.snapshots.push(measured.snapshot);
      plan.actual = measured.configuration;
      if (index === 0 && pass === 0) {
        for (const candidate of options.candidates ?? defaultCandidates()) {
          if (!same(candidate, measured.configuration)) {
            plans.push({ configuration: candidate, samples: [], snapshots: [] });
          }
        }
      }
    }
  }

  const trials: Trial[] = plans.map((plan) => {
    const configuration = plan.actual ?? plan.configuration!;
    if (plan.failure || plan.samples.length === 0) {
      return {
        label: labelOf(configuration),
        configuration,
        throughput: 0,
        p50Ms: 0,
        p99Ms: 0,
        operations: 0,
        errors: 0,
        nearCacheHits: 0,
        rounds: [],
        eligible: false,
        verdict: plan.failure ?? 'not measured',
      };
    }
    // The median round by throughput stands for the configuration.
    const order = plan.samples
      .map((_, i) => i)
      .sort((a, b) => plan.samples[a]!.throughput - plan.samples[b]!.throughput);
    const median = order[Math.floor((order.length - 1) / 2)]!;
    const snapshot = plan.snapshots[median]!;
    const trial: Trial = {
      label: labelOf(configuration),
      configuration,
      throughput: plan.samples[median]!.throughput,
      p50Ms: round(overallPercentile(snapshot, 0.5)),
      p99Ms: round(overallPercentile(snapshot, 0.99)),
      operations: plan.samples.reduce((a, r) => a + r.operations, 0),
      errors: plan.samples.reduce((a, r) => a + r.errors, 0),
      nearCacheHits: plan.snapshots.reduce(
        (a, sn) => a + (sn.executorStats?.nearCacheHits ?? 0),
        0,
      ),
      rounds: plan.samples.map((r) => r.throughput),
      eligible: false,
      verdict: '',
      snapshot,
    };
    options.onTrial?.(trial);
    return trial;
  });
  const baseline = trials[0]!;

  const p99Limit = baseline.p99Ms * guard;
  for (const trial of trials) {
    if (trial.verdict) continue;
    if (trial.errors > 0) trial.verdict = `rejected: ${trial.errors} errors`;
    else if (trial.p99Ms > p99Limit) {
      trial.verdict = `rejected: p99 ${trial.p99Ms} ms above the guard (${guard}x the baseline's ${baseline.p99Ms} ms = ${round(p99Limit)} ms)`;
    } else trial.eligible = true;
  }
  const eligible = trials.filter((t) => t.eligible);
  const winner = eligible.reduce<Trial>(
    (best, t) => (t.throughput > best.throughput ? t : best),
    eligible[0] ?? baseline,
  );
  for (const trial of eligible) {
    trial.verdict =
      trial === winner
        ? 'winner'
        : `eligible, slower: ${round(trial.throughput / winner.throughput, 2)}x the winner's throughput`;
  }
  const speedup = baseline.throughput > 0 ? round(winner.throughput / baseline.throughput, 2) : 0;
  const reason =
    winner === baseline
      ? eligible.length === 0
        ? `No configuration ran without errors within the p99 guard; the baseline (${baseline.label}) is kept.`
        : `No candidate beat the baseline (${baseline.label}) at ${baseline.throughput} calls/s within the guards; it is kept.`
      : `${winner.label}: ${winner.throughput} calls/s, ${speedup}x the baseline's ${baseline.throughput} ` +
        `(${baseline.label}), the highest throughput of ${eligible.length} eligible trials; no errors, ` +
        `p99 ${winner.p99Ms} ms within ${guard}x of the baseline's ${baseline.p99Ms} ms` +
        (winner.nearCacheHits > 0
          ? `; ${winner.nearCacheHits} reads answered by the near cache.`
          : '.');

  let applied = false;
  if (inPlace && options.apply !== false) {
    await configure(target, winner.configuration);
    applied = true;
  } else if (inPlace) {
    await configure(target, baseline.configuration);
  }
  // Snapshots are large; the winner's and the baseline's are kept for reports.
  for (const trial of trials) if (trial !== winner && trial !== baseline) delete trial.snapshot;
  return { baseline, trials, winner, reason, speedup, applied };
}
