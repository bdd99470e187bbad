/**
 * How `tune()` ranks its trials from their per-round throughputs: the spread of each, a paired
 * test of the fastest against the runner-up (the rounds are interleaved, so round i of every
 * configuration ran under the same machine load), and a stated tie-break when the lead is
 * within the noise. Pure functions of plain numbers, so that they can be checked on synthetic
 * figures.
 *
 * The test: for each round, the log of the ratio of the two throughputs; Student's t on the
 * mean of those logs (a paired t-test on log ratios, the analyzer's t distribution), two-sided.
 * Logs make a lead of +10% and a lag of -9.1% weigh the same, and a slow round of the machine,
 * which scales both configurations alike, cancels out of the ratio.
 */
import { studentTwoSided } from '@stateful-route/analyzer';
import { round } from './figures.js';

/** Spread of one configuration's per-round throughputs. */
export interface Spread {
  /** Median round (the figure that stands for the configuration). */
  median: number;
  min: number;
  max: number;
  /** Coefficient of variation (sample standard deviation / mean), in %; 0 with one round. */
  cvPercent: number;
}

/** The spread of a list of per-round figures (at least one). */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0, cvPercent: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return {
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    cvPercent: mean > 0 ? round((Math.sqrt(variance) / mean) * 100, 2) : 0,
  };
}

/** The paired comparison of one configuration against another over the same rounds. */
export interface LeadTest {
  /** Label of the configuration compared against. */
  over: string;
  test: 'paired-t-log-ratio';
  /** Rounds compared (both were measured in each). */
  rounds: number;
  /** Median of the per-round leads, in % (+12.5 = 1.125x the other's throughput). */
  leadPercent: number;
  /** Smallest and largest per-round lead, in %. */
  minPercent: number;
  maxPercent: number;
  /** Two-sided p-value; 1 when no test is possible (fewer than 2 rounds). */
  pValue: number;
  /** `pValue < alpha` and the lead is positive. */
  significant: boolean;
}

/**
 * Tests the lead of `ahead` over `behind`, both per-round throughputs measured in the same
 * rounds (index i of each is round i).
 */
export function pairedLead(
  ahead: readonly number[],
  behind: readonly number[],
  alpha: number,
  over = '',
): LeadTest {
  const n = Math.min(ahead.length, behind.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(ahead[i]! / behind[i]!);
  const usable = n > 0 && ratios.every((r) => Number.isFinite(r) && r > 0);
  const leads = usable ? ratios.map((r) => (r - 1) * 100) : [0];
  const spread = spreadOf(leads);
  let pValue = 1;
  if (usable && n >= 2) {
    const logs = ratios.map(Math.log);
    const mean = logs.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(logs.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    if (sd === 0) pValue = mean === 0 ? 1 : 0;
    else pValue = studentTwoSided(mean / (sd / Math.sqrt(n)), n - 1);
  }
  const sortedLeads = [...leads].sort((a, b) => a - b);
  // The median of an even count is the mean of the middle two here (a lead, not a round).
  const mid = sortedLeads.length / 2;
  const medianLead =
    sortedLeads.length % 2 === 1
      ? sortedLeads[Math.floor(mid)]!
      : (sortedLeads[mid - 1]! + sortedLeads[mid]!) / 2;
  return {
    over,
    test: 'paired-t-log-ratio',
    rounds: usable ? n : 0,
    leadPercent: round(medianLead, 2),
    minPercent: round(spread.min, 2),
    maxPercent: round(spread.max, 2),
    pValue: round(pValue, 6),
    significant: pValue < alpha && medianLead > 0,
  };
}

/** `= 0.043`, `< 0.001`: a p-value for people. */
export function pText(p: number): string {
  return p < 0.001 ? '< 0.001' : `= ${Number(p.toPrecision(2))}`;
}

/** What a configuration must have to be ranked. */
export interface RankedConfiguration {
  label: string;
  configuration: {
    scriptTransport: string;
    autoPipelining: boolean;
    connections: number;
    nearCache: boolean;
  };
  /** Median round. */
  throughput: number;
  /** Throughput of each round, in round order. */
  rounds: readonly number[];
}

/**
 * How far below the fastest's median a configuration may be and still count as tied with it
 * when the lead is not significant: 10%. Without it, a few noisy rounds made a configuration
 * at a third of the fastest's median "not significantly slower", and the tie-break picked it.
 */
export const TIE_MARGIN = 0.1;

/** The tie-break of `tune()`, as stated in its result. */
export const TIE_BREAK_RULE =
  'the baseline when it is among them, as nothing shows a change would help; else the ' +
  'simplest: near cache off, then fewer connections, then auto-pipelining off, then evalsha ' +
  '(the default transport); then the higher median';

/**
 * Orders two configurations by simplicity (negative: `a` first): near cache off before on (no
 * cache memory, no invalidation connection), fewer connections, auto-pipelining off, `evalsha`
 * before `eval` (the default transport of `createRedisExecutor`), then the higher median.
 */
export function simplerFirst(a: RankedConfiguration, b: RankedConfiguration): number {
  const ca = a.configuration;
  const cb = b.configuration;
  return (
    Number(ca.nearCache) - Number(cb.nearCache) ||
    ca.connections - cb.connections ||
    Number(ca.autoPipelining) - Number(cb.autoPipelining) ||
    Number(ca.scriptTransport !== 'evalsha') - Number(cb.scriptTransport !== 'evalsha') ||
    b.throughput - a.throughput
  );
}

/** How the winner was chosen among the eligible configurations. */
export interface Ranking<T extends RankedConfiguration> {
  winner: T;
  /** The highest median throughput (the winner unless the tie-break chose another). */
  fastest: T;
  /** The second highest median, or null with a single eligible configuration. */
  runnerUp: T | null;
  /** The fastest's lead over the runner-up; null without a runner-up. */
  lead: LeadTest | null;
  /** `throughput`: the fastest, its lead significant (or alone). `tie-break`: see `tied`. */
  chosenBy: 'throughput' | 'tie-break';
  /**
   * The configurations whose lag behind the fastest is not significant and within
   * `TIE_MARGIN` of its median (fastest included).
   */
  tied: T[];
}

/**
 * Ranks eligible configurations (at least one): the fastest by median wins when its lead over
 * the runner-up is significant; otherwise the winner is picked among those not significantly
 * slower than the fastest and within `TIE_MARGIN` of its median by `TIE_BREAK_RULE`
 * (`baseline`, when given and tied, first). When none is that close, the fastest wins.
 */
export function rank<T extends RankedConfiguration>(
  eligible: readonly T[],
  alpha: number,
  baseline?: T,
): Ranking<T> {
  if (eligible.length === 0) throw new RangeError('rank() needs at least one configuration');
  const byThroughput = [...eligible].sort((a, b) => b.throughput - a.throughput);
  const fastest = byThroughput[0]!;
  const runnerUp = byThroughput[1] ?? null;
  if (!runnerUp)
    return {
      winner: fastest,
      fastest,
      runnerUp,
      lead: null,
      chosenBy: 'throughput',
      tied: [fastest],
    };
  const lead = pairedLead(fastest.rounds, runnerUp.rounds, alpha, runnerUp.label);
  if (lead.significant) {
    return { winner: fastest, fastest, runnerUp, lead, chosenBy: 'throughput', tied: [fastest] };
  }
  const tied = byThroughput.filter(
    (t) =>
      t === fastest ||
      (t.throughput >= (1 - TIE_MARGIN) * fastest.throughput &&
        !pairedLead(fastest.rounds, t.rounds, alpha).significant),
  );
  if (tied.length === 1) {
    return { winner: fastest, fastest, runnerUp, lead, chosenBy: 'throughput', tied };
  }
  const winner =
    baseline !== undefined && tied.includes(baseline) ? baseline : [...tied].sort(simplerFirst)[0]!;
  return { winner, fastest, runnerUp, lead, chosenBy: 'tie-break', tied };
}
