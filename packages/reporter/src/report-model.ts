/**
 * The report as format-neutral data, built once from the snapshot, the comparison and the
 * findings: a headline, then sections of paragraphs, tables of typed cells, findings,
 * timelines and charts. Which sections exist, in which order, which columns a table has
 * and what every sentence and cell says are decided here; `format-text.ts`,
 * `format-markdown.ts` and `format-html.ts` only lay the model out.
 */
import type {
  AnalysisSnapshot,
  CompactHistogram,
  Comparison,
  TimelineSlice,
} from '@stateful-route/analyzer';
import type { Cell } from './cells.js';
import {
  describeOperationExtras,
  describeRedisShare,
  describeSetup,
  describeSpan,
} from './provenance.js';
import { DEFAULT_TITLE } from './report.js';
import type { Report, ReportEvidence, ReportFinding } from './report.js';
import { completeSlices, headline, operationsByCalls, sortFindings } from './summary.js';
import type { HeadlineLine, ReportStatus } from './summary.js';
import { formatBytes, formatInteger, formatMs, formatPercent, formatRate } from './units.js';

/** One column of a table. */
export interface Column {
  label: string;
  /** The header in the fixed-width text report, which keeps headers short and ASCII. */
  plain?: string;
  align: 'left' | 'right';
}

/** One row; `total` marks the row that sums up the others. */
export interface Row {
  cells: Cell[];
  total?: boolean;
}

/** A table of typed cells. */
export interface Table {
  columns: Column[];
  rows: Row[];
  /** What the figures are in, when the header does not say it (`Latency in ms`). */
  caption?: string;
}

/** One operation's slices over time, for a timeline. */
export interface TimelineSeries {
  name: string;
  slices: readonly TimelineSlice[];
}

/** One bar group of a percentile chart: ms per series (baseline, current) or a single value. */
export interface PercentileBar {
  label: string;
  values: number[];
}

/** A chart as data; only the HTML report draws these. */
export type Chart =
  | { kind: 'percentiles'; title: string; series: string[]; bars: PercentileBar[] }
  | { kind: 'histogram'; title: string; histogram: CompactHistogram };

/** The charts of one operation. */
export interface LatencyCard {
  name: string;
  /** Calls, rate and p99 in one line, when the snapshot has the operation. */
  summary?: string;
  charts: Chart[];
}

/** An optimizer finding as the report shows it. */
export interface FindingItem {
  severity: ReportFinding['severity'];
  title: string;
  id: string;
  recommendation: string;
  /** Columns: evidence, observed, threshold, where. */
  evidence?: Table;
  action?: { id: string; safety: 'safe to apply' | 'needs care'; description: string };
}

/** A piece of a section. */
export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; table: Table }
  /**
   * Named figures, as one sentence (the text report, where a two-column table wastes the
   * width) and as a two-column table (Markdown, HTML).
   */
  | { kind: 'figures'; sentence: string; table: Table }
  /** Calls and p99 per slice: sparklines in text and Markdown, SVG lines in HTML. */
  | { kind: 'timeline'; series: TimelineSeries[] }
  | { kind: 'findings'; findings: FindingItem[] }
  /** Per-operation charts; formats without graphics leave them out. */
  | { kind: 'latency-cards'; cards: LatencyCard[] };

/** The sections a report can have, in the order they come. */
export type SectionId =
  | 'operations'
  | 'comparison'
  | 'thresholds'
  | 'findings'
  | 'timeline'
  | 'latency'
  | 'process'
  | 'redis'
  | 'executor';

/** A titled part of the report. */
export interface Section {
  id: SectionId;
  title: string;
  /** Secondary figures: folded away in Markdown, grouped under "Details" in HTML. */
  detail: boolean;
  blocks: Block[];
}

/** A whole report, ready to be laid out by any format. */
export interface ReportModel {
  title: string;
  status: ReportStatus;
  /** `PASS`, `FAIL`, `NEEDS ATTENTION`, `REPORT`. */
  statusLabel: string;
  headline: HeadlineLine[];
  notes: string[];
  /** `Generated <time>.` */
  generated: string;
  /** What was measured, when (from the snapshot). */
  span?: string;
  /** How it was set up (from the snapshot). */
  setup?: string;
  sections: Section[];
}

const STATUS_LABEL: Record<ReportStatus, string> = {
  pass: 'PASS',
  fail: 'FAIL',
  attention: 'NEEDS ATTENTION',
  info: 'REPORT',
};

const left = (label: string, plain?: string): Column => ({ label, plain, align: 'left' });
const right = (label: string, plain?: string): Column => ({ label, plain, align: 'right' });
const name = (text: string): Cell => ({ kind: 'name', text });
const text = (value: string): Cell => ({ kind: 'text', text: value });
const integer = (value: number): Cell => ({ kind: 'integer', value });
const ms = (value: number, unit: boolean): Cell => ({ kind: 'ms', value, unit });
const paragraph = (value: string): Block => ({ kind: 'paragraph', text: value });

function section(id: SectionId, title: string, blocks: Block[], detail = false): Section {
  return { id, title, detail, blocks };
}

function operationsSection(snapshot: AnalysisSnapshot): Section {
  const names = operationsByCalls(snapshot);
  if (names.length === 0) {
    return section('operations', 'Operations', [paragraph('No calls measured.')]);
  }
  const rows: Row[] = names.flatMap((operation) => {
    const o = snapshot.operations[operation];
    if (!o) return [];
    const l = o.latency;
    return [
      {
        cells: [
          name(operation),
          integer(o.count),
          { kind: 'rate', value: o.throughput },
          {
            kind: 'percent',
            value: o.count === 0 ? 0 : o.errors / o.count,
            tone: o.errors > 0 ? 'bad' : undefined,
          },
          ...[l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map((v) => ms(v, false)),
        ],
      },
    ];
  });
  const t = snapshot.totals;
  rows.push({
    total: true,
    cells: [
      text('all operations'),
      integer(t.count),
      { kind: 'rate', value: t.throughput },
      { kind: 'percent', value: t.errorRate, tone: t.errors > 0 ? 'bad' : undefined },
      ...Array.from({ length: 6 }, (): Cell => ({ kind: 'empty' })),
    ],
  });
  const estimated = Object.values(snapshot.operations).some((o) => o.latency.estimated);
  const table: Table = {
    caption: `Latency in ms${estimated ? ', estimated from histogram buckets' : ''}`,
    columns: [
      left('operation'),
      ...['calls', 'ops/s', 'errors', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'].map((l) =>
        right(l),
      ),
    ],
    rows,
  };
  return section('operations', 'Operations', [
    { kind: 'table', table },
    ...describeOperationExtras(snapshot).map(paragraph),
  ]);
}

function comparisonSection(comparison: Comparison): Section {
  const rows: Row[] = comparison.operations.map((o) => ({
    cells: [
      name(o.operation),
      ...[o.change.throughput, o.change.p50, o.change.p95, o.change.p99].map((value): Cell => ({
        kind: 'change',
        value,
      })),
      { kind: 'ms-transition', from: o.baseline?.p99 ?? null, to: o.current?.p99 ?? null },
      { kind: 'p-value', value: o.presence === 'both' ? o.pValue : null },
      o.presence !== 'both'
        ? { kind: 'verdict', text: o.presence }
        : {
            kind: 'verdict',
            text: o.verdict,
            tone:
              o.verdict === 'regression' ? 'bad' : o.verdict === 'improvement' ? 'good' : undefined,
          },
    ],
  }));
  return section('comparison', 'Comparison with the baseline', [
    paragraph(
      `Latency: Mann-Whitney U on the latency histograms; throughput: Welch's t-test on the per-slice rates. A change counts when p < ${comparison.alpha} and it is at least ${formatPercent(comparison.minChange)}.`,
    ),
    {
      kind: 'table',
      table: {
        columns: [
          left('operation'),
          right('Δ ops/s', 'ops/s'),
          right('Δ p50', 'p50'),
          right('Δ p95', 'p95'),
          right('Δ p99', 'p99'),
          right('p99 ms'),
          right('p-value', 'p'),
          left('verdict'),
        ],
        rows,
      },
    },
  ]);
}

function thresholdsSection(comparison: Comparison): Section | undefined {
  if (comparison.thresholds.length === 0) return undefined;
  const rows: Row[] = comparison.thresholds.map((r) => ({
    cells: [
      { kind: 'verdict', text: r.pass ? 'pass' : 'FAIL', tone: r.pass ? 'good' : 'bad' },
      name(r.threshold.source),
      r.operation ? name(r.operation) : text('all operations'),
      r.observed === null
        ? text(r.note ?? 'not measured')
        : { kind: 'quantity', value: r.observed, unit: r.threshold.unit },
    ],
  }));
  const columns = [left('result'), left('threshold'), left('on'), right('observed')];
  return section('thresholds', 'Thresholds', [{ kind: 'table', table: { columns, rows } }]);
}

/**
 * The observed value and threshold of an evidence, alike. A `ratio` reads as a percentage
 * when both sides are fractions (a hit ratio, an error rate) and as a multiple otherwise
 * (reads per write, p99 / p50), since optimizer rules use the unit for both.
 */
function evidenceCells(e: ReportEvidence): [Cell, Cell] {
  if (e.unit === 'ratio' && Math.max(Math.abs(e.observed), Math.abs(e.threshold)) > 1) {
    return [
      { kind: 'multiple', value: e.observed },
      { kind: 'multiple', value: e.threshold },
    ];
  }
  return [
    { kind: 'quantity', value: e.observed, unit: e.unit },
    { kind: 'quantity', value: e.threshold, unit: e.unit },
  ];
}

function findingItem(finding: ReportFinding): FindingItem {
  const item: FindingItem = {
    severity: finding.severity,
    title: finding.title,
    id: finding.id,
    recommendation: finding.recommendation,
  };
  if (finding.evidence.length > 0) {
    item.evidence = {
      columns: [left('evidence'), right('observed'), right('threshold'), left('where')],
      rows: finding.evidence.map((e) => ({
        cells: [
          text(e.metric),
          ...evidenceCells(e),
          text([e.operation, e.window].filter(Boolean).join(', ')),
        ],
      })),
    };
  }
  if (finding.action) {
    item.action = {
      id: finding.action.id,
      safety: finding.action.safe ? 'safe to apply' : 'needs care',
      description: finding.action.description,
    };
  }
  return item;
}

function findingsSection(findings: readonly ReportFinding[]): Section | undefined {
  if (findings.length === 0) return undefined;
  return section('findings', 'Findings', [
    { kind: 'findings', findings: sortFindings(findings).map(findingItem) },
  ]);
}

function timelineSection(snapshot: AnalysisSnapshot): Section | undefined {
  const series = operationsByCalls(snapshot).flatMap((operation) => {
    const o = snapshot.operations[operation];
    return o && o.timeline.length > 1
      ? [{ name: operation, slices: completeSlices(snapshot, o) }]
      : [];
  });
  if (series.length === 0) return undefined;
  return section('timeline', 'Timeline', [{ kind: 'timeline', series }]);
}

function latencySection(report: Report): Section | undefined {
  const { snapshot, comparison } = report;
  const names = snapshot
    ? operationsByCalls(snapshot)
    : (comparison?.operations.map((o) => o.operation) ?? []);
  if (names.length === 0) return undefined;
  const cards = names.map((operation): LatencyCard => {
    const card: LatencyCard = { name: operation, charts: [] };
    const o = snapshot?.operations[operation];
    if (o) {
      const l = o.latency;
      card.summary = `${formatInteger(o.count)} calls, ${formatRate(o.throughput)} ops/s, p99 ${formatMs(l.p99)}${l.estimated ? ' (estimated)' : ''}`;
      card.charts.push(
        {
          kind: 'percentiles',
          title: `${operation}: latency percentiles`,
          series: ['current'],
          bars: [
            { label: 'p50', values: [l.p50] },
            { label: 'p90', values: [l.p90] },
            { label: 'p95', values: [l.p95] },
            { label: 'p99', values: [l.p99] },
            { label: 'p99.9', values: [l.p999] },
            { label: 'max', values: [l.max] },
          ],
        },
        { kind: 'histogram', title: `${operation}: latency histogram`, histogram: o.histogram },
      );
    }
    const compared = comparison?.operations.find((c) => c.operation === operation);
    if (compared?.baseline && compared.current) {
      const b = compared.baseline;
      const c = compared.current;
      card.charts.push({
        kind: 'percentiles',
        title: `${operation}: baseline vs current`,
        series: ['baseline', 'current'],
        bars: [
          { label: 'p50', values: [b.p50, c.p50] },
          { label: 'p95', values: [b.p95, c.p95] },
          { label: 'p99', values: [b.p99, c.p99] },
        ],
      });
    }
    return card;
  });
  return section('latency', 'Latency by operation', [{ kind: 'latency-cards', cards }]);
}

function processSection(snapshot: AnalysisSnapshot): Section | undefined {
  const p = snapshot.process;
  if (!p) return undefined;
  const d = p.eventLoopDelay;
  const sentence = `Event-loop delay p50 ${formatMs(d.p50)}, p99 ${formatMs(d.p99)}, max ${formatMs(d.max)}; heap ${formatBytes(p.heapUsed)}, RSS ${formatBytes(p.rss)}; GC ${formatInteger(p.gc.count)} pauses, ${formatMs(p.gc.totalMs)} in all, longest ${formatMs(p.gc.maxMs)}.`;
  const group = (separator: string, cells: Cell[]): Cell => ({ kind: 'group', separator, cells });
  const bytes = (value: number): Cell => ({ kind: 'bytes', value });
  const table: Table = {
    columns: [left('figure'), right('value')],
    rows: [
      [
        text('event-loop delay p50 / p99 / max'),
        group(' / ', [ms(d.p50, true), ms(d.p99, true), ms(d.max, true)]),
      ],
      [text('heap used / RSS'), group(' / ', [bytes(p.heapUsed), bytes(p.rss)])],
      [
        text('GC pauses (count, total, longest)'),
        group(', ', [integer(p.gc.count), ms(p.gc.totalMs, true), ms(p.gc.maxMs, true)]),
      ],
    ].map((cells) => ({ cells })),
  };
  return section('process', 'Process', [{ kind: 'figures', sentence, table }], true);
}

function redisSection(snapshot: AnalysisSnapshot): Section | undefined {
  const r = snapshot.redis;
  if (!r) return undefined;
  const blocks: Block[] = [];
  const commands = Object.entries(r.commandstats).sort((a, b) => b[1].usec - a[1].usec);
  const totalUsec = commands.reduce((sum, [, c]) => sum + c.usec, 0);
  if (commands.length > 0) {
    blocks.push({
      kind: 'table',
      table: {
        columns: [
          left('command'),
          right('calls'),
          right('µs/call', 'us/call'),
          right('time in Redis'),
          right('share'),
        ],
        rows: commands.map(([command, c]) => ({
          cells: [
            name(command),
            integer(c.calls),
            { kind: 'decimal', value: c.usecPerCall, digits: 2 },
            ms(c.usec / 1000, true),
            { kind: 'percent', value: totalUsec === 0 ? 0 : c.usec / totalUsec },
          ],
        })),
      },
    });
  }
  const s = r.stats;
  blocks.push(
    paragraph(
      `Commands processed ${formatInteger(s.totalCommandsProcessed)}; keyspace hits ${formatInteger(s.keyspaceHits)}, misses ${formatInteger(s.keyspaceMisses)}; expired ${formatInteger(s.expiredKeys)}, evicted ${formatInteger(s.evictedKeys)}; memory ${formatBytes(r.memory.used)}${r.memory.max > 0 ? ` of ${formatBytes(r.memory.max)}` : ' (no maxmemory)'}; ${formatInteger(r.clients)} client${r.clients === 1 ? '' : 's'}.`,
    ),
  );
  const share = describeRedisShare(snapshot);
  if (share) blocks.push(paragraph(share));
  const title = `Redis (server side, ${r.nodes} node${r.nodes > 1 ? 's' : ''})`;
  return section('redis', title, blocks, true);
}

function executorSection(snapshot: AnalysisSnapshot): Section | undefined {
  const e = snapshot.executorStats;
  if (!e) return undefined;
  const sentence = `Scripts by SHA ${formatInteger(e.scriptCallsBySha)}, by full text ${formatInteger(e.scriptCallsByText)}, NOSCRIPT reloads ${formatInteger(e.noscriptReloads)}, SCRIPT LOADs ${formatInteger(e.scriptsLoaded)}; near cache hits ${formatInteger(e.nearCacheHits)}, misses ${formatInteger(e.nearCacheMisses)}, invalidations ${formatInteger(e.nearCacheInvalidations)}; reconnects ${formatInteger(e.reconnects)}.`;
  const table: Table = {
    columns: [left('counter'), right('during the span')],
    rows: Object.entries(e).map(([counter, value]) => ({
      cells: [name(counter), integer(value)],
    })),
  };
  return section(
    'executor',
    'Executor counters (during the span)',
    [{ kind: 'figures', sentence, table }],
    true,
  );
}

/** Builds the report model; `generatedAt` is an ISO 8601 time. */
export function buildReportModel(report: Report, generatedAt: string): ReportModel {
  const head = headline(report);
  const { snapshot, comparison } = report;
  const sections = [
    snapshot && operationsSection(snapshot),
    comparison && comparisonSection(comparison),
    comparison && thresholdsSection(comparison),
    findingsSection(report.findings ?? []),
    snapshot && timelineSection(snapshot),
    latencySection(report),
    snapshot && processSection(snapshot),
    snapshot && redisSection(snapshot),
    snapshot && executorSection(snapshot),
  ].filter((s): s is Section => s !== undefined);
  return {
    title: report.title ?? DEFAULT_TITLE,
    status: head.status,
    statusLabel: STATUS_LABEL[head.status],
    headline: head.lines,
    notes: report.notes ?? [],
    generated: `Generated ${generatedAt}.`,
    span: snapshot && describeSpan(snapshot),
    setup: snapshot && describeSetup(snapshot),
    sections,
  };
}
