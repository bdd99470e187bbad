/**
 * The headline of a report, computed once and shown first in every format: the verdict,
 * the slowest operation, what got worse, what failed, the most urgent finding. A person in
 * a hurry reads only this.
 */
import type { AnalysisSnapshot, Comparison, OperationSnapshot } from '@stateful-route/analyzer';
import type { Report, ReportFinding } from './report.js';
import {
  formatInteger,
  formatMs,
  formatPercent,
  formatRate,
  formatSeconds,
  formatWithUnit,
} from './units.js';

/** How a headline line should be read. */
export type Tone = 'good' | 'bad' | 'warn' | 'neutral';

/** One line of the headline. */
export interface HeadlineLine {
  tone: Tone;
  /** Short label: `Verdict`, `Slowest`, `Worse`, `Errors`, ... */
  label: string;
  text: string;
}

/** The overall state of a report. */
export type ReportStatus = 'pass' | 'fail' | 'attention' | 'info';

/** The headline: an overall status and the lines that justify it. */
export interface Headline {
  status: ReportStatus;
  lines: HeadlineLine[];
}

const SEVERITY_ORDER: Record<ReportFinding['severity'], number> = {
  critical: 0,
  warning: 1,
  info: 2,
};

/** Findings, most severe first (stable within a severity). */
export function sortFindings(findings: readonly ReportFinding[]): ReportFinding[] {
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) =>
        SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] ||
        a.index - b.index,
    )
    .map(({ finding }) => finding);
}

/** Operation names sorted by calls, busiest first (ties by name). */
export function operationsByCalls(snapshot: AnalysisSnapshot): string[] {
  return Object.keys(snapshot.operations).sort(
    (a, b) =>
      (snapshot.operations[b]?.count ?? 0) - (snapshot.operations[a]?.count ?? 0) ||
      (a < b ? -1 : 1),
  );
}

function slowest(snapshot: AnalysisSnapshot): string | undefined {
  let name: string | undefined;
  let worst = -1;
  for (const [operation, figures] of Object.entries(snapshot.operations)) {
    if (figures.latency.p99 > worst) {
      worst = figures.latency.p99;
      name = operation;
    }
  }
  return name;
}

function comparisonLines(comparison: Comparison, lines: HeadlineLine[]): void {
  const failed = comparison.thresholds.filter((t) => !t.pass);
  const { regressions, improvements } = comparison.verdict;
  const parts: string[] = [];
  if (regressions.length > 0) {
    parts.push(`${regressions.length} significant regression${regressions.length > 1 ? 's' : ''}`);
  }
  if (failed.length > 0) {
    parts.push(`${failed.length} of ${comparison.thresholds.length} threshold checks failed`);
  }
  if (comparison.verdict.pass) {
    const passed = comparison.thresholds.length;
    lines.push({
      tone: 'good',
      label: 'Verdict',
      text:
        'PASS: no significant regression' +
        (passed > 0 ? `, all ${passed} threshold checks passed` : ''),
    });
  } else {
    lines.push({ tone: 'bad', label: 'Verdict', text: `FAIL: ${parts.join(', ')}` });
  }
  for (const operation of comparison.operations) {
    if (operation.verdict === 'regression') {
      lines.push({
        tone: 'bad',
        label: 'Worse',
        text: `${operation.operation}: ${operation.reasons.join(', ')}`,
      });
    }
  }
  for (const result of failed) {
    const observed =
      result.observed === null
        ? (result.note ?? 'not measured')
        : formatWithUnit(result.observed, result.threshold.unit);
    lines.push({
      tone: 'bad',
      label: 'Threshold',
      text: `${result.threshold.source} failed${result.operation && result.threshold.operation === null ? ` on ${result.operation}` : ''}: ${observed}`,
    });
  }
  if (improvements.length > 0) {
    const text = comparison.operations
      .filter((o) => o.verdict === 'improvement')
      .map((o) => `${o.operation} (${o.reasons.join(', ')})`)
      .join('; ');
    lines.push({ tone: 'good', label: 'Better', text });
  }
}

function snapshotLines(snapshot: AnalysisSnapshot, lines: HeadlineLine[]): void {
  const name = slowest(snapshot);
  const figures = name ? snapshot.operations[name] : undefined;
  if (name && figures) {
    lines.push({
      tone: 'neutral',
      label: 'Slowest',
      text: `${name}: p99 ${formatMs(figures.latency.p99)}, p50 ${formatMs(figures.latency.p50)}${figures.latency.estimated ? ' (estimated from buckets)' : ''}`,
    });
  }
  const { totals } = snapshot;
  const inFlight = snapshot.concurrency
    ? `, up to ${snapshot.concurrency.maxInFlight} in flight`
    : '';
  lines.push({
    tone: 'neutral',
    label: 'Throughput',
    text: `${formatRate(totals.throughput)} ops/s over ${formatSeconds(snapshot.provenance.durationSeconds)} (${formatInteger(totals.count)} calls${inFlight})`,
  });
  if (totals.errors > 0) {
    const byType = new Map<string, number>();
    const byOperation: [string, number][] = [];
    for (const [operation, figures] of Object.entries(snapshot.operations)) {
      if (figures.errors > 0) byOperation.push([operation, figures.errors]);
      for (const [type, count] of Object.entries(figures.errorsByType)) {
        if (count > 0) byType.set(type, (byType.get(type) ?? 0) + count);
      }
    }
    byOperation.sort((a, b) => b[1] - a[1]);
    const types = [...byType]
      .sort((a, b) => b[1] - a[1])
      .map(([t, c]) => `${t} ${formatInteger(c)}`);
    lines.push({
      tone: 'bad',
      label: 'Errors',
      text: `${formatInteger(totals.errors)} of ${formatInteger(totals.count)} calls failed (${formatPercent(totals.errorRate)})${types.length ? `: ${types.join(', ')}` : ''}${byOperation[0] ? `; most on ${byOperation[0][0]}` : ''}`,
    });
  } else {
    lines.push({ tone: 'good', label: 'Errors', text: 'none' });
  }
}

/**
 * Computes the headline of a report.
 * @example
 * headline({ snapshot }).lines[0] // { tone: 'neutral', label: 'Slowest', text: 'setLinkedPodIfAbsent: p99 2.31 ms, p50 0.912 ms' }
 */
export function headline(report: Report): Headline {
  const lines: HeadlineLine[] = [];
  if (report.comparison) comparisonLines(report.comparison, lines);
  if (report.snapshot) snapshotLines(report.snapshot, lines);
  else if (report.comparison) {
    // Without the snapshot, the slowest operation comes from the comparison's current side.
    let worst: { name: string; p99: number } | undefined;
    for (const operation of report.comparison.operations) {
      const p99 = operation.current?.p99;
      if (p99 !== undefined && (!worst || p99 > worst.p99))
        worst = { name: operation.operation, p99 };
    }
    if (worst) {
      lines.push({
        tone: 'neutral',
        label: 'Slowest',
        text: `${worst.name}: p99 ${formatMs(worst.p99)}`,
      });
    }
  }
  const findings = sortFindings(report.findings ?? []);
  if (findings.length > 0) {
    const counts = (['critical', 'warning', 'info'] as const)
      .map(
        (severity) => [severity, findings.filter((f) => f.severity === severity).length] as const,
      )
      .filter(([, n]) => n > 0)
      .map(([severity, n]) => `${n} ${severity}${severity === 'warning' && n > 1 ? 's' : ''}`);
    const top = findings[0];
    lines.push({
      tone: top?.severity === 'critical' ? 'bad' : top?.severity === 'warning' ? 'warn' : 'neutral',
      label: 'Findings',
      text: `${counts.join(', ')}; first: ${top?.title ?? ''}`,
    });
  }
  let status: ReportStatus = 'info';
  if (report.comparison) status = report.comparison.verdict.pass ? 'pass' : 'fail';
  const critical = findings.some((f) => f.severity === 'critical');
  const errors = (report.snapshot?.totals.errors ?? 0) > 0;
  if (status !== 'fail' && (critical || errors)) status = 'attention';
  if (lines.length === 0) lines.push({ tone: 'neutral', label: 'Empty', text: 'nothing measured' });
  return { status, lines };
}

/** Drops a last slice much shorter than the others (it would read as a fall in throughput). */
export function completeSlices(
  snapshot: AnalysisSnapshot,
  operation: OperationSnapshot,
): OperationSnapshot['timeline'] {
  const timeline = operation.timeline;
  if (timeline.length < 2) return timeline;
  const width = (timeline[1]?.t ?? 1) - (timeline[0]?.t ?? 0) || 1;
  const end = (timeline[0]?.t ?? 0) + snapshot.provenance.durationSeconds;
  const last = timeline[timeline.length - 1];
  return last && end - last.t < width * 0.9 ? timeline.slice(0, -1) : timeline;
}
