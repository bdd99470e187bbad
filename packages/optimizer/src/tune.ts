/**
 * Trials: each candidate configuration runs the same workload for a short time, in
 * interleaved rounds, and the fastest by median throughput wins, provided it made no error,
 * kept its p99 within a guard of the baseline's at the same offered load (a paced trial at
 * `guardLoad` of the baseline's throughput), and its lead over the runner-up is
 * significant; a lead within the noise is settled by a stated tie-break. Every trial is
 * reported with its spread and why it won or lost, and the winner as the code to paste.
 */
import { runWorkload, type AnalysisSnapshot, type WorkloadOptions } from '@stateful-route/analyzer';
import type { ScriptTransport, TunableExecutor } from '@stateful-route/executor-core';
import { OptimizerOptionError } from './errors.js';
import { overallPercentile, round } from './figures.js';
import {
  pairedLead,
  pText,
  rank,
  spreadOf,
  TIE_BREAK_RULE,
  TIE_MARGIN,
  type LeadTest,
  type Spread,
} from './ranking.js';
import { setupOf, type ExecutorSetup } from './setup.js';

/** Default `rounds`: enough for the paired test to tell a lead of a few % from noise. */
export const DEFAULT_TUNE_ROUNDS = 5;
/** Most `rounds`. */
export const MAX_TUNE_ROUNDS = 20;

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
  /**
   * A candidate's p99 may be at most this multiple of the baseline's, both measured at the
   * same offered load (see `guardLoad`). Default 1.5.
   */
  p99GuardRatio?: number;
  /**
   * The load of the latency guard, as a fraction of the baseline's median throughput: after
   * the rounds, the baseline and every candidate run one more trial paced at that rate
   * (runWorkload's `rate`), and their p99s there are compared. At full speed the p99s do not
   * compare: with the same calls in flight, a faster configuration runs a higher load, and
   * its p99 rises with it (what a user sees at a given request rate is the paced figure).
   * From 0.05 to 1; default 0.8, a load the baseline itself sustains.
   */
  guardLoad?: number;
  /**
   * Rounds: every configuration is measured once per round, in an order that alternates
   * (forward, then backward, shifted by one every two rounds) so that the machine's drift
   * hits them alike; its median round stands for it, and the winner's lead is tested on the
   * per-round figures. From 1 to 20; default 5 (with 1, no significance test is possible).
   */
  rounds?: number;
  /** Significance level of the lead tests. Default 0.05. */
  alpha?: number;
  /** With an executor: leave it in the winner's configuration. Default true. */
  apply?: boolean;
  /** Called once per configuration when every round is measured, before the ranking. */
  onTrial?: (trial: Trial) => void;
  /** Called after each measurement (for progress output). */
  onProgress?: (progress: TuneProgress) => void;
}

/** One measurement done, of `total` (known once the baseline is measured). */
export interface TuneProgress {
  label: string;
  /** Round of this measurement, from 1. */
  round: number;
  rounds: number;
  throughput: number;
  done: number;
  total: number;
}

/** The outcome of one trial. */
export interface Trial {
  label: string;
  configuration: TuneConfiguration;
  /** Completed calls per second. */
  throughput: number;
  p50Ms: number;
  /** At full speed (median round). */
  p99Ms: number;
  /**
   * At the guard's offered load (`guardRate` calls/s), the figure the guard compares;
   * undefined when the trial did not run it (a failed configuration).
   */
  p99AtGuardLoadMs?: number;
  /** Summed over the rounds. */
  operations: number;
  errors: number;
  nearCacheHits: number;
  /** Throughput of each round, in order (round i of every trial ran in the same round). */
  rounds: number[];
  /** Median, min, max and coefficient of variation of `rounds`. */
  spread: Spread;
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
  /** Rounds measured. */
  rounds: number;
  /** Significance level of the tests. */
  alpha: number;
  /** Offered load of the latency guard's paced trials, in calls per second. */
  guardRate: number;
  /**
   * The trial the latency guard compares with: the baseline, unless it made errors or
   * completed no call, in which case the fastest trial without errors (its p99 and load
   * would otherwise judge every candidate against failing calls). Null when no trial ran
   * without errors (then no trial is eligible).
   */
  guardReference: Trial | null;
  /**
   * The fastest eligible trial's lead over the runner-up (median throughput), tested on the
   * per-round figures; null with fewer than two eligible trials.
   */
  lead: LeadTest | null;
  /** The fastest eligible trial (the winner, unless the tie-break chose another). */
  fastest: Trial;
  /**
   * `throughput`: the fastest won, its lead significant (or no other trial was eligible).
   * `tie-break`: its lead was within the noise; the winner was chosen by `tieBreak` among the
   * trials not significantly slower than the fastest. `baseline`: nothing was eligible.
   */
  chosenBy: 'throughput' | 'tie-break' | 'baseline';
  /** The tie-break rule, when it chose the winner; else null. */
  tieBreak: string | null;
  /** The winner against the baseline, tested the same way; null when the winner is it. */
  versusBaseline: LeadTest | null;
  /** The winner's `createRedisExecutor` options (besides `redis`). */
  options: ExecutorSetup['options'];
  /** ioredis options of each of the winner's connections. */
  clientOptions: ExecutorSetup['clientOptions'];
  /** TypeScript that builds an executor in the winner's configuration. */
  paste: string;
  /** The server's flags for the winner (the switches the server has flags for). */
  serverFlags: string;
  /** The winner's switches the server has no flag for. */
  serverNotes: string[];
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

/**
 * The order of the configurations `0..count-1` in round `pass` (from 0): forward in even
 * rounds and backward in odd ones, shifted by one every two rounds, so that over each pair of
 * rounds every configuration's mean position is the same (a linear drift of the machine
 * cancels) and its neighbours change.
 */
export function roundOrder(count: number, pass: number): number[] {
  const shift = Math.floor(pass / 2) % Math.max(1, count);
  const forward = Array.from({ length: count }, (_, i) => (i + shift) % count);
  return pass % 2 === 0 ? forward : forward.reverse();
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
 * Tries the baseline and each candidate configuration under the same workload in `rounds`
 * interleaved rounds, and ranks those with no error and a p99 within `p99GuardRatio` of the
 * baseline's by median throughput. The fastest wins when its lead over the runner-up is
 * significant (paired t-test on the per-round log ratios); otherwise the winner is chosen by
 * `TIE_BREAK_RULE` among the trials not significantly slower than the fastest and within
 * `TIE_MARGIN` (10%) of its median; with none that close, the fastest wins. With an
 * executor, the switches are flipped in place (and the winner kept unless `apply: false`);
 * with a factory, each trial gets a fresh one. Total time: about (candidates + 1) x rounds x
 * (warmupMs + trialMs).
 * @example
 * const result = await tune(executor, { workload: { concurrency: 64 }, trialMs: 1000 });
 * console.log(result.reason);
 * console.log(result.paste); // createRedisExecutor({ ... }) of the winner
 * @throws SR_OPTIMIZER_INVALID_OPTION for a bad trialMs, warmupMs, p99GuardRatio, rounds or alpha
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
  const guardLoad = options.guardLoad ?? 0.8;
  if (!Number.isFinite(guardLoad) || guardLoad < 0.05 || guardLoad > 1) {
    throw new OptimizerOptionError('guardLoad', 'must be a number from 0.05 to 1');
  }
  const inPlace = typeof target !== 'function';
  const factory: ExecutorFactory = inPlace ? () => target : target;

  const rounds = options.rounds ?? DEFAULT_TUNE_ROUNDS;
  if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > MAX_TUNE_ROUNDS) {
    throw new OptimizerOptionError('rounds', `must be an integer from 1 to ${MAX_TUNE_ROUNDS}`);
  }
  const alpha = options.alpha ?? 0.05;
  if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 1) {
    throw new OptimizerOptionError('alpha', 'must be a number between 0 and 1 (exclusive)');
  }

  const measure = async (
    configuration: TuneConfiguration | undefined,
    rate?: number,
  ): Promise<{ configuration: TuneConfiguration; snapshot: AnalysisSnapshot; result: Sample }> => {
    const executor = await factory();
    try {
      if (configuration) await configure(executor, configuration);
      const actual = configurationOf(executor);
      // runWorkload writes the trial's data, warms up (not measured), measures, and deletes
      // what it wrote: every trial starts from the same state.
      const result = await runWorkload(executor, {
        ...options.workload,
        durationMs: trialMs,
        warmupMs,
        ...(rate === undefined ? {} : { rate }),
      });
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
  let done = 0;
  for (let pass = 0; pass < rounds; pass++) {
    // In the first round the candidates join once the baseline is measured; later rounds
    // alternate the order (roundOrder).
    const order = pass === 0 ? undefined : roundOrder(plans.length, pass);
    for (let step = 0; step < plans.length; step++) {
      const index = order ? order[step]! : step;
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
      done += 1;
      options.onProgress?.({
        label: labelOf(measured.configuration),
        round: pass + 1,
        rounds,
        throughput: measured.result.throughput,
        done,
        total: plans.length * rounds,
      });
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
        spread: spreadOf([]),
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
      spread: spreadOf(plan.samples.map((r) => r.throughput)),
      eligible: false,
      verdict: '',
      snapshot,
    };
    options.onTrial?.(trial);
    return trial;
  });
  const baseline = trials[0]!;

  // The latency guard: every configuration that made no error runs once more, paced at the
  // same rate, and its p99 there is compared with the reference's: the baseline's, or when
  // the baseline failed (errors, or no call completed), the fastest error-free trial's.
  const healthy = (trial: Trial): boolean =>
    !trial.verdict && trial.errors === 0 && trial.throughput > 0;
  const guarded = trials.filter(healthy);
  const guardReference = healthy(baseline)
    ? baseline
    : // A stable sort: among equals, the first measured.
      ([...guarded].sort((a, b) => b.throughput - a.throughput)[0] ?? null);
  const guardRate = guardReference ? round(guardReference.throughput * guardLoad) : 0;
  const total = done + guarded.length;
  for (const trial of guarded) {
    const index = trials.indexOf(trial);
    const measured = await measure(plans[index]!.actual ?? plans[index]!.configuration, guardRate);
    trial.p99AtGuardLoadMs = round(overallPercentile(measured.snapshot, 0.99));
    trial.errors += measured.result.errors;
    done += 1;
    options.onProgress?.({
      label: `${trial.label} (at ${guardRate} calls/s)`,
      round: rounds,
      rounds,
      throughput: measured.result.throughput,
      done,
      total,
    });
  }
  const referenceP99 = guardReference
    ? (guardReference.p99AtGuardLoadMs ?? guardReference.p99Ms)
    : 0;
  const p99Limit = referenceP99 * guard;
  const whose = guardName(guardReference, baseline);
  for (const trial of trials) {
    if (trial.verdict) continue;
    if (trial.errors > 0) trial.verdict = `rejected: ${trial.errors} errors`;
    else if (trial.throughput <= 0) trial.verdict = 'rejected: no call completed';
    else if ((trial.p99AtGuardLoadMs ?? Infinity) > p99Limit) {
      trial.verdict = `rejected: p99 ${trial.p99AtGuardLoadMs} ms at ${guardRate} calls/s, above the guard (${guard}x ${whose}'s ${referenceP99} ms there = ${round(p99Limit)} ms)`;
    } else trial.eligible = true;
  }
  const eligible = trials.filter((t) => t.eligible);
  const ranking = eligible.length > 0 ? rank(eligible, alpha, baseline) : undefined;
  const winner = ranking?.winner ?? baseline;
  const fastest = ranking?.fastest ?? baseline;
  const chosenBy = ranking?.chosenBy ?? 'baseline';
  const lead = ranking?.lead ?? null;
  for (const trial of eligible) {
    if (trial === winner) trial.verdict = 'winner';
    else if (chosenBy === 'tie-break' && trial === fastest) {
      trial.verdict = `fastest, but its lead is not significant (p ${pText(lead!.pValue)}); the tie-break chose the winner`;
    } else if (chosenBy === 'tie-break' && ranking!.tied.includes(trial)) {
      trial.verdict = `within the noise of the fastest (${ratioText(trial, fastest)}); not chosen by the tie-break`;
    } else {
      const test = pairedLead(fastest.rounds, trial.rounds, alpha);
      trial.verdict =
        `eligible, slower: ${ratioText(trial, fastest)}` +
        (test.significant ? ` (p ${pText(test.pValue)})` : '');
    }
  }
  const speedup = baseline.throughput > 0 ? round(winner.throughput / baseline.throughput, 2) : 0;
  const versusBaseline =
    winner === baseline ? null : pairedLead(winner.rounds, baseline.rounds, alpha, baseline.label);
  const reason = reasonOf({
    baseline,
    winner,
    fastest,
    eligible: eligible.length,
    chosenBy,
    lead,
    versusBaseline,
    tied: ranking?.tied.length ?? 0,
    speedup,
    guard,
    guardRate,
    guardReference,
    rounds,
    alpha,
  });

  let applied = false;
  if (inPlace && options.apply !== false) {
    await configure(target, winner.configuration);
    applied = true;
  } else if (inPlace) {
    await configure(target, baseline.configuration);
  }
  // Snapshots are large; the winner's and the baseline's are kept for reports.
  for (const trial of trials) if (trial !== winner && trial !== baseline) delete trial.snapshot;
  const {
    options: executorOptions,
    clientOptions,
    paste,
    serverFlags,
    serverNotes,
  } = setupOf(winner.configuration);
  return {
    baseline,
    trials,
    winner,
    reason,
    speedup,
    applied,
    rounds,
    alpha,
    guardRate,
    guardReference,
    lead,
    fastest,
    chosenBy,
    tieBreak: chosenBy === 'tie-break' ? TIE_BREAK_RULE : null,
    versusBaseline,
    options: executorOptions,
    clientOptions,
    paste,
    serverFlags,
    serverNotes,
  };
}

// How texts name the latency guard's reference.
function guardName(reference: Trial | null, baseline: Trial): string {
  return reference === baseline ? 'the baseline' : (reference?.label ?? 'none');
}

function ratioText(trial: Trial, fastest: Trial): string {
  return `${(trial.throughput / fastest.throughput).toFixed(2)}x the fastest's median`;
}

function percent(value: number): string {
  return `${value >= 0 ? '+' : ''}${value}%`;
}

function leadText(test: LeadTest, alpha: number): string {
  const range = `per round ${percent(test.minPercent)} to ${percent(test.maxPercent)}`;
  if (test.rounds < 2) return `${percent(test.leadPercent)} (one round: no significance test)`;
  return (
    `${percent(test.leadPercent)} (${range}; paired t-test over ${test.rounds} rounds, ` +
    `p ${pText(test.pValue)}: ${test.significant ? 'significant' : 'not significant'} at ${alpha})`
  );
}

/** The `reason` paragraph of a tune result (exported for its tests, not from the package). */
export function reasonOf(r: {
  baseline: Trial;
  winner: Trial;
  fastest: Trial;
  eligible: number;
  chosenBy: TuneResult['chosenBy'];
  lead: LeadTest | null;
  versusBaseline: LeadTest | null;
  tied: number;
  speedup: number;
  guard: number;
  guardRate: number;
  /** Default: the baseline. */
  guardReference?: Trial | null;
  rounds: number;
  alpha: number;
}): string {
  const { baseline, winner } = r;
  const reference = r.guardReference === undefined ? baseline : r.guardReference;
  const referenceName = guardName(reference, baseline);
  const figures = (t: Trial): string =>
    `${t.throughput} calls/s (median of ${t.rounds.length} round${t.rounds.length === 1 ? '' : 's'}, ` +
    `${t.spread.min}-${t.spread.max}, CV ${t.spread.cvPercent}%)`;
  const parts: string[] = [];
  if (reference !== baseline) {
    parts.push(
      `The baseline (${baseline.label}) failed (${baseline.verdict.replace(/^rejected: /, '')})` +
        (reference
          ? `; the latency guard compares with the fastest configuration without errors, ${reference.label}.`
          : '; no configuration ran without errors.'),
    );
  }
  if (r.chosenBy === 'baseline') {
    parts.push(
      `No configuration ran without errors within the p99 guard; the baseline (${baseline.label}) is kept.`,
    );
    return parts.join(' ');
  }
  if (r.chosenBy === 'throughput') {
    parts.push(
      winner === baseline
        ? `No candidate beat the baseline (${baseline.label}) at ${figures(baseline)} within the guards; it is kept.`
        : `${winner.label}: ${figures(winner)}, ` +
            (reference === baseline
              ? `${r.speedup.toFixed(2)}x the baseline's ${baseline.throughput} (${baseline.label}), `
              : '') +
            `the highest median of ${r.eligible} eligible trials; no errors, ` +
            `p99 at ${r.guardRate} calls/s ${winner.p99AtGuardLoadMs} ms, within ${r.guard}x of ` +
            `${referenceName}'s ${reference?.p99AtGuardLoadMs} ms there.`,
    );
    if (r.lead)
      parts.push(`Lead over the runner-up (${r.lead.over}): ${leadText(r.lead, r.alpha)}.`);
    if (r.lead && !r.lead.significant) {
      parts.push(
        `The lead is not significant, but no other configuration comes within ${TIE_MARGIN * 100}% ` +
          'of its median, so none ties with it.',
      );
    }
  } else {
    parts.push(
      `No significant winner: the fastest, ${r.fastest.label} at ${figures(r.fastest)}, leads ` +
        `the runner-up (${r.lead!.over}) by ${leadText(r.lead!, r.alpha)}.`,
      `Of the ${r.tied} trials within the noise of the fastest, the tie-break chose ` +
        (winner === baseline
          ? `the baseline, ${winner.label}: ${figures(winner)}.`
          : `${winner.label}: ${figures(winner)}, ${r.speedup.toFixed(2)}x the baseline's ` +
            `${baseline.throughput} (${baseline.label}).`),
      `Tie-break rule: ${TIE_BREAK_RULE}.`,
    );
  }
  if (r.versusBaseline) {
    parts.push(`Against the baseline: ${leadText(r.versusBaseline, r.alpha)}.`);
  }
  if (r.rounds === 1) {
    parts.push('With 1 round no lead can be tested; use rounds >= 2 (default 5).');
  }
  if (winner.nearCacheHits > 0) {
    parts.push(`${winner.nearCacheHits} reads answered by the near cache.`);
  }
  return parts.join(' ');
}
