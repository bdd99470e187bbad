/**
 * Baseline vs current: per operation, the relative change of throughput and of p50/p95/p99,
 * each backed by a significance test so that noise is not reported as a change, plus the
 * threshold verdicts and an overall pass/fail.
 *
 * Latency: Mann-Whitney U on the two compact histograms (each bucket a group of ties),
 * normal approximation with tie and continuity corrections. It compares whole
 * distributions without assuming a shape, which suits long-tailed latencies.
 * Throughput: Welch's t-test on the per-slice counts of the two timelines (live snapshots;
 * an exposition snapshot has one slice, so its throughput change has no test).
 * With hundreds of thousands of samples even a 1% shift is "significant", so a change is
 * only called a regression or an improvement when it is significant AND at least
 * `minChange` (default 10%) in size.
 */
import { SnapshotSchemaError, InvalidOptionError } from './errors.js';
import { SNAPSHOT_SCHEMA_VERSION } from './snapshot.js';
import type { AnalysisSnapshot, CompactHistogram, OperationSnapshot } from './snapshot.js';
import { mannWhitney, welchT } from './statistics.js';
import type { MannWhitneyResult, WelchResult } from './statistics.js';
import { checkThresholds } from './threshold.js';
import type { Threshold, ThresholdResult } from './threshold.js';

/** Options of `compare`. */
export interface CompareOptions {
  /** Checked against the current snapshot. Strings are parsed with `parseThreshold`. */
  thresholds?: readonly (string | Threshold)[];
  /** Significance level. Default 0.05. */
  alpha?: number;
  /** Smallest relative change worth reporting (0.1 = 10%). Default 0.1. */
  minChange?: number;
}

/** The figures of one side of a comparison. */
export interface SideFigures {
  count: number;
  errorRate: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
}

/** How one operation changed. */
export interface OperationComparison {
  operation: string;
  /** `added`/`removed`: measured only in the current/baseline snapshot. */
  presence: 'both' | 'added' | 'removed';
  baseline: SideFigures | null;
  current: SideFigures | null;
  /** Relative changes, (current - baseline) / baseline; `null` when the baseline is 0. */
  change: {
    throughput: number | null;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  };
  latencyTest: MannWhitneyResult | null;
  throughputTest: WelchResult | null;
  /** p-value of the latency test (1 without one). */
  pValue: number;
  /** A test rejected "no change" at `alpha` (latency or throughput). */
  significant: boolean;
  /** Significant and at least `minChange` worse / better. */
  verdict: 'regression' | 'improvement' | 'unchanged';
  /** Short reasons, e.g. `p99 +112% (p=1e-30)`. */
  reasons: string[];
}

/** The result of `compare`. */
export interface Comparison {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  alpha: number;
  minChange: number;
  /** Names of the tests used, for reports. */
  tests: { latency: 'mann-whitney-u'; throughput: 'welch-t' };
  baseline: { startedAt: string; durationSeconds: number; source: AnalysisSnapshot['source'] };
  current: { startedAt: string; durationSeconds: number; source: AnalysisSnapshot['source'] };
  operations: OperationComparison[];
  thresholds: ThresholdResult[];
  verdict: {
    pass: boolean;
    regressions: string[];
    improvements: string[];
    failedThresholds: number;
  };
}

/**
 * Throws unless `value` looks like an analysis snapshot of the version this package reads.
 * @throws SR_ANALYZER_SNAPSHOT_SCHEMA
 */
export function assertSnapshot(
  value: unknown,
  label = 'snapshot',
): asserts value is AnalysisSnapshot {
  const candidate = value as Partial<AnalysisSnapshot> | null;
  if (candidate === null || typeof candidate !== 'object') {
    throw new SnapshotSchemaError(undefined, `${label} is not an object`);
  }
  if (candidate.schemaVersion !== SNAPSHOT_SCHEMA_VERSION) {
    throw new SnapshotSchemaError(
      candidate.schemaVersion,
      `${label} has schemaVersion ${String(candidate.schemaVersion)}; this analyzer reads ${SNAPSHOT_SCHEMA_VERSION}`,
    );
  }
  if (typeof candidate.operations !== 'object' || candidate.operations === null) {
    throw new SnapshotSchemaError(candidate.schemaVersion, `${label} has no operations`);
  }
}

function binned(histogram: CompactHistogram): Map<number, number> {
  const bins = new Map<number, number>();
  histogram.bounds.forEach((bound, i) => {
    const count = histogram.counts[i] ?? 0;
    if (count > 0) bins.set(bound, (bins.get(bound) ?? 0) + count);
  });
  if (histogram.overflow > 0) bins.set(Infinity, histogram.overflow);
  return bins;
}

/** Per-slice rates, leaving out a last slice much shorter than the others. */
function sliceRates(snapshot: AnalysisSnapshot, operation: OperationSnapshot): number[] {
  const timeline = operation.timeline;
  if (timeline.length < 2) return [];
  const width = (timeline[1]?.t ?? 1) - (timeline[0]?.t ?? 0) || 1;
  const end = (timeline[0]?.t ?? 0) + snapshot.provenance.durationSeconds;
  const rates: number[] = [];
  for (const slice of timeline) {
    const length = Math.min(width, end - slice.t);
    if (length < width * 0.9) continue;
    rates.push(slice.count / width);
  }
  return rates;
}

const relative = (current: number, baseline: number): number | null =>
  baseline === 0 ? null : (current - baseline) / baseline;

function figures(operation: OperationSnapshot): SideFigures {
  return {
    count: operation.count,
    errorRate: operation.count === 0 ? 0 : operation.errors / operation.count,
    throughput: operation.throughput,
    p50: operation.latency.p50,
    p95: operation.latency.p95,
    p99: operation.latency.p99,
  };
}

const percent = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
const pText = (p: number): string =>
  p === 0 ? '<1e-300' : p < 0.001 ? p.toExponential(0) : p.toFixed(3);

/**
 * Compares two snapshots. Every operation measured in either is listed; thresholds are
 * checked on `current`; the verdict fails on any regression or failed threshold.
 * @throws SR_ANALYZER_SNAPSHOT_SCHEMA when either is not a version-1 snapshot.
 * @throws SR_ANALYZER_THRESHOLD_SYNTAX for a malformed threshold.
 * @example
 * const result = compare(baseline, current, { thresholds: ['p99<5ms', 'errorRate<0.1%'] });
 * if (!result.verdict.pass) process.exitCode = 1;
 */
export function compare(
  baseline: AnalysisSnapshot,
  current: AnalysisSnapshot,
  options: CompareOptions = {},
): Comparison {
  assertSnapshot(baseline, 'baseline');
  assertSnapshot(current, 'current');
  const alpha = options.alpha ?? 0.05;
  const minChange = options.minChange ?? 0.1;
  if (!(alpha > 0 && alpha < 1)) throw new InvalidOptionError('alpha', 'must be in (0, 1)');
  if (!(minChange >= 0)) throw new InvalidOptionError('minChange', 'must be >= 0');

  const names = [
    ...new Set([...Object.keys(baseline.operations), ...Object.keys(current.operations)]),
  ].sort();
  const operations: OperationComparison[] = names.map((name) => {
    const before = baseline.operations[name];
    const after = current.operations[name];
    if (!before || !after) {
      return {
        operation: name,
        presence: before ? 'removed' : 'added',
        baseline: before ? figures(before) : null,
        current: after ? figures(after) : null,
        change: { throughput: null, p50: null, p95: null, p99: null },
        latencyTest: null,
        throughputTest: null,
        pValue: 1,
        significant: false,
        verdict: 'unchanged',
        reasons: [before ? 'not measured in the current run' : 'new in the current run'],
      };
    }
    // Ranks are only meaningful over shared bucket bounds: a live histogram (log scale) and
    // an exposition one (Prometheus buckets) cannot be ranked against each other.
    const comparable = (before.histogram.scheme ?? 'log') === (after.histogram.scheme ?? 'log');
    const latencyTest = comparable
      ? mannWhitney(binned(before.histogram), binned(after.histogram))
      : null;
    const throughputTest = welchT(sliceRates(baseline, before), sliceRates(current, after));
    const change = {
      throughput: relative(after.throughput, before.throughput),
      p50: relative(after.latency.p50, before.latency.p50),
      p95: relative(after.latency.p95, before.latency.p95),
      p99: relative(after.latency.p99, before.latency.p99),
    };
    const latencySignificant = latencyTest !== null && latencyTest.pValue < alpha;
    const throughputSignificant = throughputTest !== null && throughputTest.pValue < alpha;
    const reasons: string[] = comparable
      ? []
      : ['latency histograms use different buckets (live vs /metrics): no latency test'];
    let worse = false;
    let better = false;
    if (latencySignificant) {
      for (const key of ['p50', 'p99'] as const) {
        const c = change[key];
        if (c === null) continue;
        // The test says the distribution moved; the direction must agree with the effect.
        if (c >= minChange && latencyTest.effectSize > 0.5) {
          worse = true;
          reasons.push(`${key} ${percent(c)} (p=${pText(latencyTest.pValue)})`);
        } else if (c <= -minChange && latencyTest.effectSize < 0.5) {
          better = true;
          reasons.push(`${key} ${percent(c)} (p=${pText(latencyTest.pValue)})`);
        }
      }
    }
    if (throughputSignificant && change.throughput !== null) {
      if (change.throughput <= -minChange) {
        worse = true;
        reasons.push(
          `throughput ${percent(change.throughput)} (p=${pText(throughputTest.pValue)})`,
        );
      } else if (change.throughput >= minChange) {
        better = true;
        reasons.push(
          `throughput ${percent(change.throughput)} (p=${pText(throughputTest.pValue)})`,
        );
      }
    }
    return {
      operation: name,
      presence: 'both',
      baseline: figures(before),
      current: figures(after),
      change,
      latencyTest,
      throughputTest,
      pValue: latencyTest?.pValue ?? 1,
      significant: latencySignificant || throughputSignificant,
      verdict: worse ? 'regression' : better ? 'improvement' : 'unchanged',
      reasons,
    };
  });

  const thresholds = checkThresholds(current, options.thresholds ?? []);
  const regressions = operations.filter((o) => o.verdict === 'regression').map((o) => o.operation);
  const improvements = operations
    .filter((o) => o.verdict === 'improvement')
    .map((o) => o.operation);
  const failedThresholds = thresholds.filter((t) => !t.pass).length;
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    alpha,
    minChange,
    tests: { latency: 'mann-whitney-u', throughput: 'welch-t' },
    baseline: {
      startedAt: baseline.provenance.startedAt,
      durationSeconds: baseline.provenance.durationSeconds,
      source: baseline.source,
    },
    current: {
      startedAt: current.provenance.startedAt,
      durationSeconds: current.provenance.durationSeconds,
      source: current.source,
    },
    operations,
    thresholds,
    verdict: {
      pass: regressions.length === 0 && failedThresholds === 0,
      regressions,
      improvements,
      failedThresholds,
    },
  };
}
