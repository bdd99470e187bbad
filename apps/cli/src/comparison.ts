/**
 * Baseline comparison and SLO thresholds for `bench`: the analyzer's `compare()` when a
 * baseline is given (significance tests decide what is a change), its threshold checks
 * alone otherwise, and how either reads in a terminal.
 */
import {
  checkThresholds,
  compare,
  parseThreshold,
  type AnalysisSnapshot,
  type Comparison,
  type ThresholdResult,
} from '@stateful-route/analyzer';
import { formatMs, formatNumber, type Output } from './output.js';

/** The outcome of a comparison or of threshold checks. */
export interface ComparisonOutcome {
  passed: boolean;
  comparison: Comparison | undefined;
  thresholds: ThresholdResult[];
  /** What `--json` prints. */
  json: unknown;
}

/**
 * Parses threshold expressions up front so that a typo fails before a run, not after.
 * @throws SR_ANALYZER_THRESHOLD_SYNTAX (exit 2)
 */
export function checkThresholdSyntax(thresholds: readonly string[]): void {
  for (const threshold of thresholds) parseThreshold(threshold);
}

/**
 * Compares `current` with a baseline (when given) and checks the thresholds on `current`.
 * @throws SR_ANALYZER_SNAPSHOT_SCHEMA when the baseline is not a snapshot (exit 2)
 */
export function compareWithBaseline(
  baseline: unknown,
  current: AnalysisSnapshot,
  thresholds: readonly string[],
): ComparisonOutcome {
  if (baseline !== undefined) {
    const comparison = compare(baseline as AnalysisSnapshot, current, { thresholds });
    return {
      passed: comparison.verdict.pass,
      comparison,
      thresholds: comparison.thresholds,
      json: comparison,
    };
  }
  const results = checkThresholds(current, thresholds);
  const passed = results.every((result) => result.pass);
  return {
    passed,
    comparison: undefined,
    thresholds: results,
    json: { verdict: { pass: passed }, thresholds: results },
  };
}

const percent = (change: number | null): string =>
  change === null ? '-' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`;

function observed(result: ThresholdResult): string {
  if (result.observed === null) return result.note ?? 'not measured';
  switch (result.threshold.unit) {
    case 'ms':
      return formatMs(result.observed);
    case 'ratio':
      return `${formatNumber(result.observed * 100, 3)}%`;
    case 'ops/s':
      return `${formatNumber(result.observed, 1)} ops/s`;
    default:
      return formatNumber(result.observed);
  }
}

/** Prints the comparison table, the threshold verdicts and the overall verdict. */
export function printComparison(out: Output, outcome: ComparisonOutcome): void {
  const { style } = out;
  out.line();
  if (outcome.comparison) {
    const comparison = outcome.comparison;
    out.line(
      style.bold(
        `compared with the baseline of ${comparison.baseline.startedAt} ` +
          `(latency: Mann-Whitney U, throughput: Welch's t, alpha ${comparison.alpha}, ` +
          `min change ${formatNumber(comparison.minChange * 100)}%)`,
      ),
    );
    out.table(
      ['OPERATION', 'VERDICT', 'OPS/S', 'P50', 'P99', 'P-VALUE'],
      comparison.operations.map((op) => [
        op.operation,
        op.presence === 'both' ? op.verdict : op.presence,
        percent(op.change.throughput),
        percent(op.change.p50),
        percent(op.change.p99),
        op.pValue < 0.001 ? '<0.001' : op.pValue.toFixed(3),
      ]),
    );
  }
  if (outcome.thresholds.length > 0) {
    out.table(
      ['THRESHOLD', 'OPERATION', 'OBSERVED', 'RESULT'],
      outcome.thresholds.map((result) => [
        result.threshold.source,
        result.operation ?? 'all',
        observed(result),
        result.pass ? style.green('pass') : style.red('FAIL'),
      ]),
    );
  }
  const failed = outcome.thresholds.filter((result) => !result.pass).length;
  const regressions = outcome.comparison?.verdict.regressions ?? [];
  out.line(
    outcome.passed
      ? style.green('PASS')
      : style.red(
          `FAIL: ${[
            regressions.length > 0 ? `regressions in ${regressions.join(', ')}` : '',
            failed > 0 ? `${failed} failed threshold${failed === 1 ? '' : 's'}` : '',
          ]
            .filter((part) => part !== '')
            .join('; ')}`,
        ),
  );
}
