/**
 * The HTML report: the report model laid out as one self-contained file with inline CSS
 * and inline SVG charts (latency percentiles per operation, latency histograms, throughput
 * and p99 timelines). No script and no external resource; a Content-Security-Policy in the
 * page forbids them outright, so the file opens the same offline, in a mail client or as a
 * CI artifact.
 */
import { cellText, cellTone } from './cells.js';
import type { Cell, Glyphs } from './cells.js';
import type {
  Block,
  Chart,
  FindingItem,
  LatencyCard,
  ReportModel,
  Section,
  Table,
  TimelineSeries,
} from './report-model.js';
import { escapeHtml, histogramChart, PALETTE, percentileChart, timelineChart } from './svg.js';

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

const GLYPHS: Glyphs = { arrow: '→' };

const e = escapeHtml;

function tr(cells: string[], className = ''): string {
  return `<tr${className ? ` class="${className}"` : ''}>${cells.join('')}</tr>`;
}

function td(c: Cell): string {
  const classes = [c.kind === 'name' ? 'name' : '', cellTone(c) ?? ''].filter(Boolean).join(' ');
  return `<td${classes ? ` class="${classes}"` : ''}>${e(cellText(c, GLYPHS))}</td>`;
}

function rowHtml(cells: readonly Cell[], total: boolean): string {
  // Trailing empty cells (the total row's percentiles) merge into one.
  let end = cells.length;
  while (end > 0 && cells[end - 1]?.kind === 'empty') end -= 1;
  const tds = cells.slice(0, end).map(td);
  if (end < cells.length) tds.push(`<td colspan="${cells.length - end}"></td>`);
  return tr(tds, total ? 'total' : '');
}

/** A table; `head: false` for two-column figures, whose header row says nothing. */
function tableHtml(t: Table, head = true): string {
  const caption = t.caption ? `<p class="meta">${e(t.caption)}.</p>` : '';
  const thead = head ? `<thead>${tr(t.columns.map((c) => `<th>${e(c.label)}</th>`))}</thead>` : '';
  const rows = t.rows.map((row) => rowHtml(row.cells, row.total === true)).join('');
  return `${caption}<table>${thead}<tbody>${rows}</tbody></table>`;
}

function legend(names: readonly string[]): string {
  const items = names
    .map(
      (name, i) =>
        `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${e(name)}</li>`,
    )
    .join('');
  return `<ul class="legend-list">${items}</ul>`;
}

function timelineHtml(series: readonly TimelineSeries[]): string {
  // One colour per line: the quietest operations beyond the palette are not drawn.
  const shown = series.slice(0, PALETTE.length);
  const names = legend(shown.map((s) => s.name));
  const hidden =
    series.length > shown.length
      ? `<p class="meta">${series.length - shown.length} quieter operations not drawn.</p>`
      : '';
  return `${timelineChart('Throughput timeline by operation', shown)}${names}${timelineChart('p99 latency timeline by operation', shown, 'p99')}${names}${hidden}`;
}

function chartHtml(chart: Chart): string {
  return chart.kind === 'histogram'
    ? histogramChart(chart.title, chart.histogram)
    : percentileChart(chart.title, chart.bars, chart.series);
}

function cardHtml(card: LatencyCard): string {
  const summary = card.summary ? `<p>${e(card.summary)}</p>` : '';
  return `<article class="card"><h3>${e(card.name)}</h3>${summary}${card.charts.map(chartHtml).join('')}</article>`;
}

function findingHtml(f: FindingItem): string {
  const evidence = f.evidence ? tableHtml(f.evidence) : '';
  const action = f.action
    ? `<p>Action <code>${e(f.action.id)}</code> (${f.action.safety}): ${e(f.action.description)}</p>`
    : '';
  return `<div class="finding ${f.severity}"><h3><span class="sev">${f.severity}</span>${e(f.title)}</h3><p>${e(f.recommendation)} <code>${e(f.id)}</code></p>${evidence}${action}</div>`;
}

function blockHtml(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p class="meta">${e(block.text)}</p>`;
    case 'table':
      return tableHtml(block.table);
    case 'figures':
      return tableHtml(block.table, false);
    case 'timeline':
      return timelineHtml(block.series);
    case 'findings':
      return block.findings.map(findingHtml).join('');
    case 'latency-cards':
      return `<div class="grid">${block.cards.map(cardHtml).join('')}</div>`;
  }
}

/** The sections, the detail ones grouped under one "Details" heading where they come. */
function sectionsHtml(sections: readonly Section[]): string[] {
  const out: string[] = [];
  let details: string[] = [];
  const flush = (): void => {
    if (details.length > 0) {
      out.push(`<section class="details"><h2>Details</h2>${details.join('')}</section>`);
    }
    details = [];
  };
  for (const section of sections) {
    const body = section.blocks.map(blockHtml).join('');
    if (section.detail) {
      details.push(`<h3>${e(section.title)}</h3>${body}`);
      continue;
    }
    flush();
    out.push(`<section><h2>${e(section.title)}</h2>${body}</section>`);
  }
  flush();
  return out;
}

/** Renders the self-contained HTML report. */
export function renderHtml(model: ReportModel): string {
  const title = e(model.title);
  const meta = [model.generated, model.span]
    .filter(Boolean)
    .map((m) => `<p class="meta">${e(m ?? '')}</p>`)
    .join('');
  const lines = model.headline
    .map((l) => `<li class="tone-${l.tone}"><b>${e(l.label)}</b> ${e(l.text)}</li>`)
    .join('');
  const body = [
    `<header><h1>${title} <span class="badge status-${model.status}">${e(model.statusLabel)}</span></h1>${meta}</header>`,
    `<section class="headline" aria-label="Headline"><ul>${lines}</ul></section>`,
    ...model.notes.map((note) => `<p class="note">${e(note)}</p>`),
    ...sectionsHtml(model.sections),
    `<footer>${e(model.setup ?? '')}</footer>`,
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
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
