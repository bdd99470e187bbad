/**
 * The terminal report: plain text that fits 100 columns, headline first, then tables.
 * No colours (a caller that wants them can add them; logs and CI keep the plain text).
 */
import type { AnalysisSnapshot, Comparison, OperationSnapshot } from '@stateful-route/analyzer';
import type { Report, ReportFinding } from './report.js';
import {
  changeCells,
  completeSlices,
  headline,
  operationsByCalls,
  sortFindings,
} from './summary.js';
import {
  describeOperationExtras,
  describeRedisShare,
  describeSetup,
  describeSpan,
} from './provenance.js';
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

/** Maximum line width of the text report. */
export const TEXT_WIDTH = 100;

/** Word-wraps `text` to `width` with `indent` before every line after the first. */
export function wrap(text: string, width: number, indent: string, firstIndent = indent): string[] {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = firstIndent;
  let empty = true;
  for (const word of words) {
    const candidate = empty ? line + word : `${line} ${word}`;
    if (candidate.length > width && !empty) {
      lines.push(line);
      line = indent + word;
    } else {
      line = candidate;
    }
    empty = false;
  }
  lines.push(line);
  // A single word longer than the width is cut rather than allowed to overflow.
  return lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

type Align = 'left' | 'right';

/** A fixed-width table; the first column shrinks (with an ellipsis) to fit `width`. */
export function table(
  headers: string[],
  rows: string[][],
  aligns: Align[],
  width = TEXT_WIDTH,
  indent = '  ',
): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const gap = 2;
  const total = (): number =>
    indent.length + widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  if (total() > width && widths[0] !== undefined) {
    widths[0] = Math.max(8, widths[0] - (total() - width));
  }
  const cell = (value: string, i: number): string => {
    const w = widths[i] ?? 0;
    const text = value.length > w ? `${value.slice(0, w - 1)}…` : value;
    return aligns[i] === 'right' ? text.padStart(w) : text.padEnd(w);
  };
  const line = (cells: string[]): string =>
    (indent + cells.map(cell).join(' '.repeat(gap))).trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values` with block characters (empty slices are spaces). */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return ' '.repeat(values.length);
  return values
    .map((v) => (v <= 0 ? ' ' : (SPARKS[Math.min(7, Math.floor((v / max) * 7.999))] ?? ' ')))
    .join('');
}

function section(title: string): string[] {
  return ['', title, '='.repeat(title.length)];
}

function operationsSection(snapshot: AnalysisSnapshot): string[] {
  const estimated = Object.values(snapshot.operations).some((o) => o.latency.estimated);
  const lines = section(`Operations (latency in ms${estimated ? ', estimated from buckets' : ''})`);
  const names = operationsByCalls(snapshot);
  if (names.length === 0) return [...lines, '  no calls measured'];
  const rows = names.map((name) => {
    const o = snapshot.operations[name];
    if (!o) return [];
    const l = o.latency;
    return [
      name,
      formatInteger(o.count),
      formatRate(o.throughput),
      formatPercent(o.count === 0 ? 0 : o.errors / o.count),
      ...[l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map(formatMsValue),
    ];
  });
  const t = snapshot.totals;
  rows.push([
    'all operations',
    formatInteger(t.count),
    formatRate(t.throughput),
    formatPercent(t.errorRate),
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  return [
    ...lines,
    ...table(
      ['operation', 'calls', 'ops/s', 'errors', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    ...describeOperationExtras(snapshot).flatMap((text) => wrap(text, TEXT_WIDTH, '  ')),
  ];
}

/** Sparklines of calls and of p99 per slice, one line per operation. */
export function timelineLines(snapshot: AnalysisSnapshot, width: number): string[] {
  const names = operationsByCalls(snapshot).filter(
    (name) => (snapshot.operations[name]?.timeline.length ?? 0) > 1,
  );
  if (names.length === 0) return [];
  const nameWidth = Math.min(22, Math.max(...names.map((n) => n.length)));
  const room = width - 2 - nameWidth - 2 - 16;
  const label = (name: string): string =>
    name.length > nameWidth ? `${name.slice(0, nameWidth - 1)}…` : name.padEnd(nameWidth);
  const slices = (name: string): OperationSnapshot['timeline'] => {
    const operation = snapshot.operations[name];
    return operation ? completeSlices(snapshot, operation).slice(-room) : [];
  };
  const lines: string[] = ['Calls per slice (each line scaled to its own peak):'];
  for (const name of names) {
    const counts = slices(name).map((s) => s.count);
    const peak = Math.max(...counts);
    lines.push(`  ${label(name)}  ${sparkline(counts)}  peak ${formatInteger(peak)}`.trimEnd());
  }
  lines.push('', 'p99 latency per slice (each line scaled to its own peak):');
  for (const name of names) {
    const p99s = slices(name).map((s) => s.p99);
    const peak = Math.max(...p99s);
    lines.push(`  ${label(name)}  ${sparkline(p99s)}  peak ${formatMs(peak)}`.trimEnd());
  }
  return lines;
}

function timelineSection(snapshot: AnalysisSnapshot): string[] {
  const lines = timelineLines(snapshot, TEXT_WIDTH);
  if (lines.length === 0) return [];
  return [
    ...section('Timeline'),
    ...lines.map((line) => (line.startsWith(' ') || line === '' ? line : `  ${line}`)),
  ];
}

function comparisonSection(comparison: Comparison): string[] {
  const lines = section('Comparison with the baseline');
  lines.push(
    ...wrap(
      `Latency: Mann-Whitney U on the latency histograms; throughput: Welch's t-test on the per-slice rates. A change counts when p < ${comparison.alpha} and it is at least ${formatPercent(comparison.minChange)}.`,
      TEXT_WIDTH,
      '  ',
    ),
    '',
  );
  const rows = comparison.operations.map((o) => {
    const p99 =
      o.baseline && o.current
        ? `${formatMsValue(o.baseline.p99)} -> ${formatMsValue(o.current.p99)}`
        : o.current
          ? `-> ${formatMsValue(o.current.p99)}`
          : `${formatMsValue(o.baseline?.p99 ?? NaN)} ->`;
    const verdict = o.presence === 'both' ? o.verdict : o.presence;
    return [
      o.operation,
      ...changeCells(o),
      p99,
      o.presence === 'both' ? formatPValue(o.pValue) : '-',
      verdict,
    ];
  });
  lines.push(
    ...table(['operation', 'ops/s', 'p50', 'p95', 'p99', 'p99 ms', 'p', 'verdict'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'left',
    ]),
  );
  return lines;
}

function thresholdsSection(comparison: Comparison | undefined): string[] {
  const results = comparison?.thresholds ?? [];
  if (results.length === 0) return [];
  const lines = section('Thresholds');
  const rows = results.map((r) => [
    r.pass ? 'pass' : 'FAIL',
    r.threshold.source,
    r.operation ?? 'all operations',
    r.observed === null ? (r.note ?? 'not measured') : formatWithUnit(r.observed, r.threshold.unit),
  ]);
  lines.push(
    ...table(['result', 'threshold', 'on', 'observed'], rows, ['left', 'left', 'left', 'right']),
  );
  return lines;
}

function findingLines(finding: ReportFinding): string[] {
  const lines = wrap(
    `[${finding.severity.toUpperCase()}] ${finding.title} (${finding.id})`,
    TEXT_WIDTH,
    '    ',
    '  ',
  );
  for (const e of finding.evidence) {
    const where = [e.operation, e.window].filter(Boolean).join(', ');
    const [observed, threshold] = formatEvidencePair(e.observed, e.threshold, e.unit);
    lines.push(
      ...wrap(
        `- ${e.metric}: ${observed} (threshold ${threshold})${where ? ` [${where}]` : ''}`,
        TEXT_WIDTH,
        '      ',
        '    ',
      ),
    );
  }
  lines.push(...wrap(`Recommendation: ${finding.recommendation}`, TEXT_WIDTH, '      ', '    '));
  if (finding.action) {
    lines.push(
      ...wrap(
        `Action: ${finding.action.id} (${finding.action.safe ? 'safe to apply' : 'needs care'}): ${finding.action.description}`,
        TEXT_WIDTH,
        '      ',
        '    ',
      ),
    );
  }
  return lines;
}

function findingsSection(findings: readonly ReportFinding[]): string[] {
  if (findings.length === 0) return [];
  const lines = section('Findings');
  sortFindings(findings).forEach((finding, i) => {
    if (i > 0) lines.push('');
    lines.push(...findingLines(finding));
  });
  return lines;
}

function detailsSection(snapshot: AnalysisSnapshot): string[] {
  const lines: string[] = [];
  const p = snapshot.process;
  if (p) {
    lines.push(...section('Process'));
    lines.push(
      ...wrap(
        `Event-loop delay p50 ${formatMs(p.eventLoopDelay.p50)}, p99 ${formatMs(p.eventLoopDelay.p99)}, max ${formatMs(p.eventLoopDelay.max)}; heap ${formatBytes(p.heapUsed)}, RSS ${formatBytes(p.rss)}; GC ${formatInteger(p.gc.count)} pauses, ${formatMs(p.gc.totalMs)} in all, longest ${formatMs(p.gc.maxMs)}.`,
        TEXT_WIDTH,
        '  ',
      ),
    );
  }
  const r = snapshot.redis;
  if (r) {
    lines.push(...section(`Redis (server side, ${r.nodes} node${r.nodes > 1 ? 's' : ''})`));
    const commands = Object.entries(r.commandstats).sort((a, b) => b[1].usec - a[1].usec);
    const totalUsec = commands.reduce((s, [, c]) => s + c.usec, 0);
    if (commands.length > 0) {
      lines.push(
        ...table(
          ['command', 'calls', 'us/call', 'time in Redis', 'share'],
          commands.map(([name, c]) => [
            name,
            formatInteger(c.calls),
            c.usecPerCall.toFixed(2),
            formatMs(c.usec / 1000),
            formatPercent(totalUsec === 0 ? 0 : c.usec / totalUsec),
          ]),
          ['left', 'right', 'right', 'right', 'right'],
        ),
        '',
      );
    }
    const s = r.stats;
    lines.push(
      ...wrap(
        `Commands processed ${formatInteger(s.totalCommandsProcessed)}; keyspace hits ${formatInteger(s.keyspaceHits)}, misses ${formatInteger(s.keyspaceMisses)}; expired ${formatInteger(s.expiredKeys)}, evicted ${formatInteger(s.evictedKeys)}; memory ${formatBytes(r.memory.used)}${r.memory.max > 0 ? ` of ${formatBytes(r.memory.max)}` : ' (no maxmemory)'}; ${formatInteger(r.clients)} client${r.clients === 1 ? '' : 's'}.`,
        TEXT_WIDTH,
        '  ',
      ),
    );
    const share = describeRedisShare(snapshot);
    if (share) lines.push(...wrap(share, TEXT_WIDTH, '  '));
  }
  const e = snapshot.executorStats;
  if (e) {
    lines.push(...section('Executor counters (during the span)'));
    lines.push(
      ...wrap(
        `Scripts by SHA ${formatInteger(e.scriptCallsBySha)}, by full text ${formatInteger(e.scriptCallsByText)}, NOSCRIPT reloads ${formatInteger(e.noscriptReloads)}, SCRIPT LOADs ${formatInteger(e.scriptsLoaded)}; near cache hits ${formatInteger(e.nearCacheHits)}, misses ${formatInteger(e.nearCacheMisses)}, invalidations ${formatInteger(e.nearCacheInvalidations)}; reconnects ${formatInteger(e.reconnects)}.`,
        TEXT_WIDTH,
        '  ',
      ),
    );
  }
  return lines;
}

/** Renders the text report. */
export function renderText(report: Report, generatedAt: string): string {
  const title = report.title ?? 'stateful-route performance report';
  const lines: string[] = [title, '#'.repeat(Math.min(TEXT_WIDTH, title.length))];
  lines.push(...wrap(`Generated ${generatedAt}.`, TEXT_WIDTH, ''));
  if (report.snapshot) {
    lines.push(...wrap(describeSpan(report.snapshot), TEXT_WIDTH, '  ', ''));
    lines.push(...wrap(describeSetup(report.snapshot), TEXT_WIDTH, '  ', ''));
  }
  const head = headline(report);
  lines.push(...section(`Headline: ${head.status.toUpperCase()}`));
  for (const line of head.lines) {
    lines.push(...wrap(line.text, TEXT_WIDTH, ' '.repeat(14), `  ${line.label.padEnd(10)}  `));
  }
  for (const note of report.notes ?? [])
    lines.push(...wrap(`Note: ${note}`, TEXT_WIDTH, '        ', '  '));
  if (report.snapshot) lines.push(...operationsSection(report.snapshot));
  if (report.comparison) lines.push(...comparisonSection(report.comparison));
  lines.push(...thresholdsSection(report.comparison));
  lines.push(...findingsSection(report.findings ?? []));
  if (report.snapshot) {
    lines.push(...timelineSection(report.snapshot));
    lines.push(...detailsSection(report.snapshot));
  }
  return `${lines.join('\n')}\n`;
}
