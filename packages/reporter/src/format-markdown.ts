/**
 * The Markdown report, for a pull-request comment: the headline as a short list, the
 * tables after it, and the long details folded in `<details>` blocks.
 */
import type { AnalysisSnapshot, Comparison } from '@stateful-route/analyzer';
import { timelineLines } from './format-text.js';
import type { Report, ReportFinding } from './report.js';
import {
  describeOperationExtras,
  describeRedisShare,
  describeSetup,
  describeSpan,
} from './provenance.js';
import { changeCells, headline, operationsByCalls, sortFindings } from './summary.js';
import type { ReportStatus } from './summary.js';
import {
  formatBytes,
  formatInteger,
  formatMs,
  formatMsValue,
  formatPercent,
  formatPValue,
  formatRate,
  formatWithUnit,
  formatEvidencePair,
} from './units.js';

/** Escapes text for a Markdown table cell or paragraph (no HTML, no table breaks). */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/([`*_[\]<>#|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** An operation or metric name as inline code (backticks removed: they cannot be escaped there). */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function tableLines(headers: string[], rows: string[][], right: boolean[]): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map((_, i) => (right[i] ? '---:' : ':---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

const STATUS: Record<ReportStatus, string> = {
  pass: '✅ PASS',
  fail: '❌ FAIL',
  attention: '⚠️ NEEDS ATTENTION',
  info: 'ℹ️ REPORT',
};

function operationsTable(snapshot: AnalysisSnapshot): string[] {
  const names = operationsByCalls(snapshot);
  if (names.length === 0) return ['No calls measured.'];
  const rows = names.map((name) => {
    const o = snapshot.operations[name];
    if (!o) return [];
    const l = o.latency;
    return [
      code(name),
      formatInteger(o.count),
      formatRate(o.throughput),
      formatPercent(o.count === 0 ? 0 : o.errors / o.count),
      ...[l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map(formatMsValue),
    ];
  });
  const t = snapshot.totals;
  rows.push([
    '**all operations**',
    `**${formatInteger(t.count)}**`,
    `**${formatRate(t.throughput)}**`,
    `**${formatPercent(t.errorRate)}**`,
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  const estimated = Object.values(snapshot.operations).some((o) => o.latency.estimated);
  return [
    `Latency in ms${estimated ? ', estimated from histogram buckets' : ''}.`,
    '',
    ...tableLines(
      ['operation', 'calls', 'ops/s', 'errors', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'],
      rows,
      [false, true, true, true, true, true, true, true, true, true],
    ),
  ];
}

function comparisonLines(comparison: Comparison): string[] {
  const rows = comparison.operations.map((o) => {
    const verdict =
      o.presence !== 'both'
        ? o.presence
        : o.verdict === 'regression'
          ? '❌ regression'
          : o.verdict === 'improvement'
            ? '✅ improvement'
            : 'unchanged';
    const p99 =
      o.baseline && o.current
        ? `${formatMsValue(o.baseline.p99)} → ${formatMsValue(o.current.p99)}`
        : formatMsValue(o.current?.p99 ?? o.baseline?.p99 ?? NaN);
    return [
      code(o.operation),
      ...changeCells(o),
      p99,
      o.presence === 'both' ? formatPValue(o.pValue) : '-',
      verdict,
    ];
  });
  return [
    '## Comparison with the baseline',
    '',
    `Latency: Mann-Whitney U on the latency histograms; throughput: Welch's t-test on the per-slice rates. A change counts when p < ${comparison.alpha} and it is at least ${formatPercent(comparison.minChange)}.`,
    '',
    ...tableLines(
      ['operation', 'Δ ops/s', 'Δ p50', 'Δ p95', 'Δ p99', 'p99 ms', 'p-value', 'verdict'],
      rows,
      [false, true, true, true, true, true, true, false],
    ),
  ];
}

function thresholdLines(comparison: Comparison): string[] {
  if (comparison.thresholds.length === 0) return [];
  return [
    '',
    '## Thresholds',
    '',
    ...tableLines(
      ['result', 'threshold', 'on', 'observed'],
      comparison.thresholds.map((r) => [
        r.pass ? '✅ pass' : '❌ fail',
        code(r.threshold.source),
        r.operation ? code(r.operation) : 'all operations',
        r.observed === null
          ? escapeMarkdown(r.note ?? 'not measured')
          : formatWithUnit(r.observed, r.threshold.unit),
      ]),
      [false, false, false, true],
    ),
  ];
}

const SEVERITY_MARK: Record<ReportFinding['severity'], string> = {
  critical: '🔴 critical',
  warning: '🟠 warning',
  info: '🔵 info',
};

function findingLines(findings: readonly ReportFinding[]): string[] {
  if (findings.length === 0) return [];
  const lines = ['', '## Findings', ''];
  for (const finding of sortFindings(findings)) {
    lines.push(
      `### ${SEVERITY_MARK[finding.severity]}: ${escapeMarkdown(finding.title)}`,
      '',
      `${escapeMarkdown(finding.recommendation)} (${code(finding.id)})`,
      '',
    );
    if (finding.evidence.length > 0) {
      lines.push(
        ...tableLines(
          ['evidence', 'observed', 'threshold', 'where'],
          finding.evidence.map((e) => [
            escapeMarkdown(e.metric),
            ...formatEvidencePair(e.observed, e.threshold, e.unit),
            escapeMarkdown([e.operation, e.window].filter(Boolean).join(', ')),
          ]),
          [false, true, true, false],
        ),
        '',
      );
    }
    if (finding.action) {
      lines.push(
        `Action ${code(finding.action.id)} (${finding.action.safe ? 'safe to apply' : 'needs care'}): ${escapeMarkdown(finding.action.description)}`,
        '',
      );
    }
  }
  return lines;
}

function detailLines(snapshot: AnalysisSnapshot): string[] {
  const lines: string[] = [];
  const timeline = timelineLines(snapshot, 100);
  if (timeline.length > 0) {
    lines.push(
      '',
      '<details><summary>Timeline</summary>',
      '',
      '```text',
      ...timeline,
      '```',
      '',
      '</details>',
    );
  }
  const p = snapshot.process;
  if (p) {
    lines.push(
      '',
      '<details><summary>Process</summary>',
      '',
      ...tableLines(
        ['figure', 'value'],
        [
          [
            'event-loop delay p50 / p99 / max',
            `${formatMs(p.eventLoopDelay.p50)} / ${formatMs(p.eventLoopDelay.p99)} / ${formatMs(p.eventLoopDelay.max)}`,
          ],
          ['heap used / RSS', `${formatBytes(p.heapUsed)} / ${formatBytes(p.rss)}`],
          [
            'GC pauses (count, total, longest)',
            `${formatInteger(p.gc.count)}, ${formatMs(p.gc.totalMs)}, ${formatMs(p.gc.maxMs)}`,
          ],
        ],
        [false, true],
      ),
      '',
      '</details>',
    );
  }
  const r = snapshot.redis;
  if (r) {
    const commands = Object.entries(r.commandstats).sort((a, b) => b[1].usec - a[1].usec);
    const totalUsec = commands.reduce((s, [, c]) => s + c.usec, 0);
    lines.push(
      '',
      `<details><summary>Redis (server side, ${r.nodes} node${r.nodes > 1 ? 's' : ''})</summary>`,
      '',
      ...tableLines(
        ['command', 'calls', 'µs/call', 'time in Redis', 'share'],
        commands.map(([name, c]) => [
          code(name),
          formatInteger(c.calls),
          c.usecPerCall.toFixed(2),
          formatMs(c.usec / 1000),
          formatPercent(totalUsec === 0 ? 0 : c.usec / totalUsec),
        ]),
        [false, true, true, true, true],
      ),
      '',
      `Commands processed ${formatInteger(r.stats.totalCommandsProcessed)}; keyspace hits ${formatInteger(r.stats.keyspaceHits)}, misses ${formatInteger(r.stats.keyspaceMisses)}; memory ${formatBytes(r.memory.used)}${r.memory.max > 0 ? ` of ${formatBytes(r.memory.max)}` : ' (no maxmemory)'}; ${formatInteger(r.clients)} client${r.clients === 1 ? '' : 's'}.`,
      '',
      escapeMarkdown(describeRedisShare(snapshot) ?? ''),
      '',
      '</details>',
    );
  }
  const e = snapshot.executorStats;
  if (e) {
    lines.push(
      '',
      '<details><summary>Executor counters</summary>',
      '',
      ...tableLines(
        ['counter', 'during the span'],
        Object.entries(e).map(([name, value]) => [code(name), formatInteger(value)]),
        [false, true],
      ),
      '',
      '</details>',
    );
  }
  return lines;
}

/** Renders the Markdown report. */
export function renderMarkdown(report: Report, generatedAt: string): string {
  const head = headline(report);
  const lines: string[] = [
    `# ${escapeMarkdown(report.title ?? 'stateful-route performance report')}`,
    '',
    `**${STATUS[head.status]}**`,
    '',
    ...head.lines.map((line) => `- **${line.label}**: ${escapeMarkdown(line.text)}`),
    '',
    ...(report.notes ?? []).flatMap((note) => [`> ${escapeMarkdown(note)}`, '']),
  ];
  if (report.snapshot) {
    lines.push('## Operations', '', ...operationsTable(report.snapshot), '');
    for (const text of describeOperationExtras(report.snapshot)) {
      lines.push(escapeMarkdown(text), '');
    }
  }
  if (report.comparison) lines.push(...comparisonLines(report.comparison));
  if (report.comparison) lines.push(...thresholdLines(report.comparison));
  lines.push(...findingLines(report.findings ?? []));
  if (report.snapshot) lines.push(...detailLines(report.snapshot));
  lines.push('');
  const footer = [`Generated ${generatedAt}.`];
  if (report.snapshot) {
    footer.push(describeSpan(report.snapshot), describeSetup(report.snapshot));
  }
  lines.push(`<sub>${escapeMarkdown(footer.join(' '))}</sub>`, '');
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}
