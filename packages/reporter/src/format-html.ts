/**
 * The HTML report: one self-contained file with inline CSS and inline SVG charts (latency
 * percentiles per operation, latency histograms, throughput timeline). No script and no
 * external resource; a Content-Security-Policy in the page forbids them outright, so the
 * file opens the same offline, in a mail client or as a CI artifact.
 */
import type { AnalysisSnapshot, Comparison, OperationSnapshot } from '@stateful-route/analyzer';
import type { Report, ReportFinding } from './report.js';
import {
  describeOperationExtras,
  describeRedisShare,
  describeSetup,
  describeSpan,
} from './provenance.js';
import {
  changeCells,
  completeSlices,
  headline,
  operationsByCalls,
  sortFindings,
} from './summary.js';
import type { ReportStatus } from './summary.js';
import { escapeHtml, histogramChart, PALETTE, percentileChart, timelineChart } from './svg.js';
import type { TimelineSeries } from './svg.js';
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

const CSS = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff;
  --panel: #f6f8fa; --good: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.meta { color: var(--muted); margin: 2px 0; }
.badge { font-size: 13px; font-weight: 700; padding: 2px 10px; border-radius: 12px; color: #fff; }
.status-pass { background: var(--good); } .status-fail { background: var(--bad); }
.status-attention { background: var(--warn); } .status-info { background: var(--muted); }
.headline { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 16px; margin-top: 16px; }
.headline ul { list-style: none; margin: 0; padding: 0; }
.headline li { padding: 3px 0 3px 12px; border-left: 4px solid var(--line); margin: 4px 0; }
.headline li b { display: inline-block; min-width: 90px; }
.tone-good { border-color: var(--good) !important; } .tone-bad { border-color: var(--bad) !important; }
.tone-warn { border-color: var(--warn) !important; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: var(--panel); font-weight: 600; }
td.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
tr.total td { font-weight: 700; }
td.bad, span.bad { color: var(--bad); font-weight: 600; } td.good, span.good { color: var(--good); font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(450px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.card p { margin: 4px 0 8px; color: var(--muted); }
.legend-list { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 6px 0 0; padding: 0; list-style: none; }
.legend-list li { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
svg { max-width: 100%; height: auto; }
svg .axis { font-size: 10px; fill: var(--muted); } svg .value { font-size: 10px; fill: var(--fg); }
svg .legend { font-size: 11px; fill: var(--fg); } svg .grid { stroke: var(--line); stroke-width: 1; }
.finding { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.finding.critical { border-left-color: var(--bad); } .finding.warning { border-left-color: var(--warn); }
.finding.info { border-left-color: #0969da; }
.finding h3, .details h3 { font-family: inherit; margin-top: 14px; } .finding table { margin: 6px 0; }
.sev { text-transform: uppercase; font-size: 11px; font-weight: 700; margin-right: 6px; }
.note { color: var(--muted); font-style: italic; margin: 8px 0 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { main { max-width: none; } .card, .finding { break-inside: avoid; } }
`;

const STATUS_TEXT: Record<ReportStatus, string> = {
  pass: 'PASS',
  fail: 'FAIL',
  attention: 'NEEDS ATTENTION',
  info: 'REPORT',
};

const e = escapeHtml;

function row(cells: string[], className = ''): string {
  return `<tr${className ? ` class="${className}"` : ''}>${cells.join('')}</tr>`;
}
const td = (text: string, className = ''): string =>
  `<td${className ? ` class="${className}"` : ''}>${e(text)}</td>`;
const th = (text: string): string => `<th>${e(text)}</th>`;

function operationsTable(snapshot: AnalysisSnapshot): string {
  const names = operationsByCalls(snapshot);
  if (names.length === 0) return '<p>No calls measured.</p>';
  const estimated = Object.values(snapshot.operations).some((o) => o.latency.estimated);
  const rows = names.map((name) => {
    const o = snapshot.operations[name] as OperationSnapshot;
    const l = o.latency;
    const errorRate = o.count === 0 ? 0 : o.errors / o.count;
    return row([
      td(name, 'name'),
      td(formatInteger(o.count)),
      td(formatRate(o.throughput)),
      td(formatPercent(errorRate), o.errors > 0 ? 'bad' : ''),
      ...[l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map((v) => td(formatMsValue(v))),
    ]);
  });
  const t = snapshot.totals;
  rows.push(
    row(
      [
        td('all operations'),
        td(formatInteger(t.count)),
        td(formatRate(t.throughput)),
        td(formatPercent(t.errorRate), t.errors > 0 ? 'bad' : ''),
        '<td colspan="6"></td>',
      ],
      'total',
    ),
  );
  return `<p class="meta">Latency in ms${estimated ? ', estimated from histogram buckets' : ''}.</p><table><thead>${row(
    ['operation', 'calls', 'ops/s', 'errors', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'].map(th),
  )}</thead><tbody>${rows.join('')}</tbody></table>${describeOperationExtras(snapshot)
    .map((text) => `<p class="meta">${e(text)}</p>`)
    .join('')}`;
}

function timelineSection(snapshot: AnalysisSnapshot): string {
  const names = operationsByCalls(snapshot).filter(
    (name) => (snapshot.operations[name]?.timeline.length ?? 0) > 1,
  );
  if (names.length === 0) return '';
  const shown = names.slice(0, PALETTE.length);
  const series: TimelineSeries[] = shown.map((name) => ({
    name,
    slices: completeSlices(snapshot, snapshot.operations[name] as OperationSnapshot),
  }));
  const legend = shown
    .map(
      (name, i) =>
        `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${e(name)}</li>`,
    )
    .join('');
  const hidden =
    names.length > shown.length
      ? `<p class="meta">${names.length - shown.length} quieter operations not drawn.</p>`
      : '';
  return `<section><h2>Timeline</h2>${timelineChart('Throughput timeline by operation', series)}<ul class="legend-list">${legend}</ul>${timelineChart('p99 latency timeline by operation', series, 'p99')}<ul class="legend-list">${legend}</ul>${hidden}</section>`;
}

function latencyCards(report: Report): string {
  const snapshot = report.snapshot;
  const comparison = report.comparison;
  const names = snapshot
    ? operationsByCalls(snapshot)
    : (comparison?.operations.map((o) => o.operation) ?? []);
  if (names.length === 0) return '';
  const cards = names.map((name) => {
    const o = snapshot?.operations[name];
    const parts: string[] = [`<h3>${e(name)}</h3>`];
    if (o) {
      const l = o.latency;
      parts.push(
        `<p>${formatInteger(o.count)} calls, ${formatRate(o.throughput)} ops/s, p99 ${formatMs(l.p99)}${l.estimated ? ' (estimated)' : ''}</p>`,
        percentileChart(
          `${name}: latency percentiles`,
          [
            { label: 'p50', values: [l.p50] },
            { label: 'p90', values: [l.p90] },
            { label: 'p95', values: [l.p95] },
            { label: 'p99', values: [l.p99] },
            { label: 'p99.9', values: [l.p999] },
            { label: 'max', values: [l.max] },
          ],
          ['current'],
        ),
        histogramChart(`${name}: latency histogram`, o.histogram),
      );
    }
    const compared = comparison?.operations.find((c) => c.operation === name);
    if (compared?.baseline && compared.current) {
      const b = compared.baseline;
      const c = compared.current;
      parts.push(
        percentileChart(
          `${name}: baseline vs current`,
          [
            { label: 'p50', values: [b.p50, c.p50] },
            { label: 'p95', values: [b.p95, c.p95] },
            { label: 'p99', values: [b.p99, c.p99] },
          ],
          ['baseline', 'current'],
        ),
      );
    }
    return `<article class="card">${parts.join('')}</article>`;
  });
  return `<section><h2>Latency by operation</h2><div class="grid">${cards.join('')}</div></section>`;
}

function comparisonSection(comparison: Comparison): string {
  const rows = comparison.operations.map((o) => {
    const verdictClass =
      o.verdict === 'regression' ? 'bad' : o.verdict === 'improvement' ? 'good' : '';
    const p99 =
      o.baseline && o.current
        ? `${formatMsValue(o.baseline.p99)} → ${formatMsValue(o.current.p99)}`
        : formatMsValue(o.current?.p99 ?? o.baseline?.p99 ?? NaN);
    return row([
      td(o.operation, 'name'),
      ...changeCells(o).map((cell) => td(cell)),
      td(p99),
      td(o.presence === 'both' ? formatPValue(o.pValue) : '-'),
      td(o.presence === 'both' ? o.verdict : o.presence, verdictClass),
    ]);
  });
  const thresholds = comparison.thresholds.length
    ? `<h2>Thresholds</h2><table><thead>${row(['result', 'threshold', 'on', 'observed'].map(th))}</thead><tbody>${comparison.thresholds
        .map((r) =>
          row([
            td(r.pass ? 'pass' : 'FAIL', r.pass ? 'good' : 'bad'),
            td(r.threshold.source, 'name'),
            td(r.operation ?? 'all operations', r.operation ? 'name' : ''),
            td(
              r.observed === null
                ? (r.note ?? 'not measured')
                : formatWithUnit(r.observed, r.threshold.unit),
            ),
          ]),
        )
        .join('')}</tbody></table>`
    : '';
  return `<section><h2>Comparison with the baseline</h2><p class="meta">Latency: Mann-Whitney U on the latency histograms; throughput: Welch's t-test on the per-slice rates. A change counts when p &lt; ${comparison.alpha} and it is at least ${e(formatPercent(comparison.minChange))}.</p><table><thead>${row(
    ['operation', 'Δ ops/s', 'Δ p50', 'Δ p95', 'Δ p99', 'p99 ms', 'p-value', 'verdict'].map(th),
  )}</thead><tbody>${rows.join('')}</tbody></table>${thresholds}</section>`;
}

function findingsSection(findings: readonly ReportFinding[]): string {
  if (findings.length === 0) return '';
  const items = sortFindings(findings).map((f) => {
    const evidence = f.evidence.length
      ? `<table><thead>${row(['evidence', 'observed', 'threshold', 'where'].map(th))}</thead><tbody>${f.evidence
          .map((ev) =>
            row([
              td(ev.metric),
              ...formatEvidencePair(ev.observed, ev.threshold, ev.unit).map((v) => td(v)),
              td([ev.operation, ev.window].filter(Boolean).join(', ')),
            ]),
          )
          .join('')}</tbody></table>`
      : '';
    const action = f.action
      ? `<p>Action <code>${e(f.action.id)}</code> (${f.action.safe ? 'safe to apply' : 'needs care'}): ${e(f.action.description)}</p>`
      : '';
    return `<div class="finding ${f.severity}"><h3><span class="sev">${f.severity}</span>${e(f.title)}</h3><p>${e(f.recommendation)} <code>${e(f.id)}</code></p>${evidence}${action}</div>`;
  });
  return `<section><h2>Findings</h2>${items.join('')}</section>`;
}

function detailsSection(snapshot: AnalysisSnapshot): string {
  const parts: string[] = [];
  const p = snapshot.process;
  if (p) {
    parts.push(
      `<h3>Process</h3><table><tbody>${[
        [
          'event-loop delay p50 / p99 / max',
          `${formatMs(p.eventLoopDelay.p50)} / ${formatMs(p.eventLoopDelay.p99)} / ${formatMs(p.eventLoopDelay.max)}`,
        ],
        ['heap used / RSS', `${formatBytes(p.heapUsed)} / ${formatBytes(p.rss)}`],
        [
          'GC pauses (count, total, longest)',
          `${formatInteger(p.gc.count)}, ${formatMs(p.gc.totalMs)}, ${formatMs(p.gc.maxMs)}`,
        ],
      ]
        .map(([k, v]) => row([td(k ?? ''), td(v ?? '')]))
        .join('')}</tbody></table>`,
    );
  }
  const r = snapshot.redis;
  if (r) {
    const commands = Object.entries(r.commandstats).sort((a, b) => b[1].usec - a[1].usec);
    const total = commands.reduce((s, [, c]) => s + c.usec, 0);
    parts.push(
      `<h3>Redis (server side, ${r.nodes} node${r.nodes > 1 ? 's' : ''})</h3><table><thead>${row(
        ['command', 'calls', 'µs/call', 'time in Redis', 'share'].map(th),
      )}</thead><tbody>${commands
        .map(([name, c]) =>
          row([
            td(name, 'name'),
            td(formatInteger(c.calls)),
            td(c.usecPerCall.toFixed(2)),
            td(formatMs(c.usec / 1000)),
            td(formatPercent(total === 0 ? 0 : c.usec / total)),
          ]),
        )
        .join(
          '',
        )}</tbody></table><p class="meta">Commands processed ${formatInteger(r.stats.totalCommandsProcessed)}; keyspace hits ${formatInteger(r.stats.keyspaceHits)}, misses ${formatInteger(r.stats.keyspaceMisses)}; memory ${e(formatBytes(r.memory.used))}${r.memory.max > 0 ? ` of ${e(formatBytes(r.memory.max))}` : ' (no maxmemory)'}; ${formatInteger(r.clients)} client${r.clients === 1 ? '' : 's'}.</p><p class="meta">${e(describeRedisShare(snapshot) ?? '')}</p>`,
    );
  }
  const x = snapshot.executorStats;
  if (x) {
    parts.push(
      `<h3>Executor counters</h3><table><tbody>${Object.entries(x)
        .map(([k, v]) => row([td(k, 'name'), td(formatInteger(v))]))
        .join('')}</tbody></table>`,
    );
  }
  return parts.length ? `<section class="details"><h2>Details</h2>${parts.join('')}</section>` : '';
}

/** Renders the self-contained HTML report. */
export function renderHtml(report: Report, generatedAt: string): string {
  const title = report.title ?? 'stateful-route performance report';
  const head = headline(report);
  const lines = head.lines
    .map((l) => `<li class="tone-${l.tone}"><b>${e(l.label)}</b> ${e(l.text)}</li>`)
    .join('');
  const meta = [`Generated ${generatedAt}.`];
  if (report.snapshot) meta.push(describeSpan(report.snapshot));
  const body = [
    `<header><h1>${e(title)} <span class="badge status-${head.status}">${STATUS_TEXT[head.status]}</span></h1>${meta.map((m) => `<p class="meta">${e(m)}</p>`).join('')}</header>`,
    `<section class="headline" aria-label="Headline"><ul>${lines}</ul></section>`,
    (report.notes ?? []).map((note) => `<p class="note">${e(note)}</p>`).join(''),
    report.snapshot
      ? `<section><h2>Operations</h2>${operationsTable(report.snapshot)}</section>`
      : '',
    report.comparison ? comparisonSection(report.comparison) : '',
    findingsSection(report.findings ?? []),
    report.snapshot ? timelineSection(report.snapshot) : '',
    latencyCards(report),
    report.snapshot ? detailsSection(report.snapshot) : '',
    `<footer>${report.snapshot ? e(describeSetup(report.snapshot)) : ''}</footer>`,
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
