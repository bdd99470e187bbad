/**
 * The Markdown report, for a pull-request comment: the report model laid out with the
 * headline as a short list, the tables after it, and the long details folded in
 * `<details>` blocks.
 */
import { cellText, isFreeText } from './cells.js';
import type { Cell, CellTone, Glyphs } from './cells.js';
import type { Block, FindingItem, ReportModel, Section, Table } from './report-model.js';
import { sparklineLines } from './sparkline.js';
import type { ReportStatus } from './summary.js';

const GLYPHS: Glyphs = { arrow: '→' };

/** Width of the sparkline timeline (a code block, read in a monospace font). */
const TIMELINE_WIDTH = 100;

const STATUS_MARK: Record<ReportStatus, string> = {
  pass: '✅',
  fail: '❌',
  attention: '⚠️',
  info: 'ℹ️',
};

const VERDICT_MARK: Record<CellTone, string> = { good: '✅', bad: '❌' };

const SEVERITY_MARK: Record<FindingItem['severity'], string> = {
  critical: '🔴',
  warning: '🟠',
  info: '🔵',
};

/** Escapes text for a Markdown table cell or paragraph (no HTML, no table breaks). */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(/\\/g, '\\\\')
      .replace(/([`*_[\]>#|~])/g, '\\$1')
      // A `<` before white space opens no tag (`p < 0.05`), so only the others are escaped.
      .replace(/<(?!\s)/g, '\\<')
      .replace(/\r?\n/g, ' ')
  );
}

/** An operation or metric name as inline code (backticks removed: they cannot be escaped there). */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function cell(c: Cell, total: boolean): string {
  const value = cellText(c, GLYPHS);
  let out = c.kind === 'name' ? code(value) : isFreeText(c) ? escapeMarkdown(value) : value;
  if (c.kind === 'verdict' && c.tone) out = `${VERDICT_MARK[c.tone]} ${out}`;
  return total && out !== '' ? `**${out}**` : out;
}

function tableLines(t: Table): string[] {
  const lines = [
    `| ${t.columns.map((c) => c.label).join(' | ')} |`,
    `| ${t.columns.map((c) => (c.align === 'right' ? '---:' : ':---')).join(' | ')} |`,
    ...t.rows.map((row) => `| ${row.cells.map((c) => cell(c, row.total === true)).join(' | ')} |`),
  ];
  return t.caption ? [`${escapeMarkdown(t.caption)}.`, '', ...lines] : lines;
}

function findingLines(finding: FindingItem): string[] {
  const lines = [
    `### ${SEVERITY_MARK[finding.severity]} ${finding.severity}: ${escapeMarkdown(finding.title)}`,
    '',
    `${escapeMarkdown(finding.recommendation)} (${code(finding.id)})`,
    '',
  ];
  if (finding.evidence) lines.push(...tableLines(finding.evidence), '');
  if (finding.action) {
    const { id, safety, description } = finding.action;
    lines.push(`Action ${code(id)} (${safety}): ${escapeMarkdown(description)}`, '');
  }
  return lines;
}

function blockLines(block: Block): string[] {
  switch (block.kind) {
    case 'paragraph':
      return [escapeMarkdown(block.text)];
    case 'table':
    case 'figures':
      return tableLines(block.table);
    case 'timeline':
      return ['```text', ...sparklineLines(block.series, TIMELINE_WIDTH), '```'];
    case 'findings':
      return block.findings.flatMap(findingLines);
    case 'latency-cards':
      return [];
  }
}

function sectionLines(section: Section): string[] {
  const body = section.blocks.flatMap((block) => {
    const lines = blockLines(block);
    return lines.length > 0 ? [...lines, ''] : [];
  });
  if (body.length === 0) return [];
  // Secondary figures, and the long sparkline block, are folded away.
  const folded = section.detail || section.blocks.every((b) => b.kind === 'timeline');
  const title = escapeMarkdown(section.title);
  return folded
    ? ['', `<details><summary>${title}</summary>`, '', ...body, '</details>']
    : ['', `## ${title}`, '', ...body];
}

/** Renders the Markdown report. */
export function renderMarkdown(model: ReportModel): string {
  const lines: string[] = [
    `# ${escapeMarkdown(model.title)}`,
    '',
    `**${STATUS_MARK[model.status]} ${model.statusLabel}**`,
    '',
    ...model.headline.map((line) => `- **${line.label}**: ${escapeMarkdown(line.text)}`),
    '',
    ...model.notes.flatMap((note) => [`> ${escapeMarkdown(note)}`, '']),
  ];
  for (const section of model.sections) lines.push(...sectionLines(section));
  const footer = [model.generated, model.span, model.setup].filter(Boolean).join(' ');
  lines.push('', `<sub>${escapeMarkdown(footer)}</sub>`, '');
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}
