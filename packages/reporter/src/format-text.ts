/**
 * The terminal report: the report model laid out as plain text that fits 100 columns,
 * headline first, then the sections. No colours (a caller that wants them can add them;
 * logs and CI keep the plain text).
 */
import { cellText } from './cells.js';
import type { Glyphs } from './cells.js';
import type { Block, FindingItem, ReportModel, Section, Table } from './report-model.js';
import { sparklineLines } from './sparkline.js';

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

const GLYPHS: Glyphs = { arrow: '->' };

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

function heading(title: string): string[] {
  return ['', title, '='.repeat(title.length)];
}

function tableLines(t: Table): string[] {
  return table(
    t.columns.map((c) => c.plain ?? c.label),
    t.rows.map((row) => row.cells.map((cell) => cellText(cell, GLYPHS))),
    t.columns.map((c) => c.align),
  );
}

function findingLines(finding: FindingItem): string[] {
  const lines = wrap(
    `[${finding.severity.toUpperCase()}] ${finding.title} (${finding.id})`,
    TEXT_WIDTH,
    '    ',
    '  ',
  );
  // The evidence table reads as one line per row here: metric, observed, threshold, where.
  for (const row of finding.evidence?.rows ?? []) {
    const [metric, observed, threshold, where] = row.cells.map((cell) => cellText(cell, GLYPHS));
    lines.push(
      ...wrap(
        `- ${metric}: ${observed} (threshold ${threshold})${where ? ` [${where}]` : ''}`,
        TEXT_WIDTH,
        '      ',
        '    ',
      ),
    );
  }
  lines.push(...wrap(`Recommendation: ${finding.recommendation}`, TEXT_WIDTH, '      ', '    '));
  if (finding.action) {
    const { id, safety, description } = finding.action;
    lines.push(...wrap(`Action: ${id} (${safety}): ${description}`, TEXT_WIDTH, '      ', '    '));
  }
  return lines;
}

function blockLines(block: Block): string[] {
  switch (block.kind) {
    case 'paragraph':
      return wrap(block.text, TEXT_WIDTH, '  ');
    case 'figures':
      return wrap(block.sentence, TEXT_WIDTH, '  ');
    case 'table':
      return tableLines(block.table);
    case 'timeline':
      return sparklineLines(block.series, TEXT_WIDTH).map((line) =>
        line.startsWith(' ') || line === '' ? line : `  ${line}`,
      );
    case 'findings':
      return block.findings.flatMap((finding, i) => [
        ...(i > 0 ? [''] : []),
        ...findingLines(finding),
      ]);
    case 'latency-cards':
      return [];
  }
}

function sectionLines(section: Section): string[] {
  const lines: string[] = [];
  let previous: Block['kind'] | undefined;
  for (const block of section.blocks) {
    const body = blockLines(block);
    if (body.length === 0) continue;
    // Consecutive sentences run on; anything else is set apart by a blank line.
    if (previous && !(previous === 'paragraph' && block.kind === 'paragraph')) lines.push('');
    lines.push(...body);
    previous = block.kind;
  }
  if (lines.length === 0) return [];
  // What a table's figures are in (its caption) goes into the heading, in parentheses.
  const [caption] = section.blocks.flatMap((b) =>
    b.kind === 'table' && b.table.caption ? [b.table.caption] : [],
  );
  const title = caption
    ? `${section.title} (${caption.charAt(0).toLowerCase()}${caption.slice(1)})`
    : section.title;
  return [...heading(title), ...lines];
}

/** Renders the text report. */
export function renderText(model: ReportModel): string {
  const lines: string[] = [model.title, '#'.repeat(Math.min(TEXT_WIDTH, model.title.length))];
  lines.push(...wrap(model.generated, TEXT_WIDTH, ''));
  for (const line of [model.span, model.setup]) {
    if (line) lines.push(...wrap(line, TEXT_WIDTH, '  ', ''));
  }
  lines.push(...heading(`Headline: ${model.statusLabel}`));
  for (const line of model.headline) {
    lines.push(...wrap(line.text, TEXT_WIDTH, ' '.repeat(14), `  ${line.label.padEnd(10)}  `));
  }
  for (const note of model.notes)
    lines.push(...wrap(`Note: ${note}`, TEXT_WIDTH, '        ', '  '));
  for (const section of model.sections) lines.push(...sectionLines(section));
  return `${lines.join('\n')}\n`;
}
