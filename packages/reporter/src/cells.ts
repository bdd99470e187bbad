/**
 * Table cells as typed values (a count, a rate, a duration, a change, ...) and the one
 * function that says what a cell reads as. The report model fills tables with these cells;
 * every format prints `cellText` and adds only its own markup (escaping, code spans, bold,
 * CSS classes, the marks of a verdict).
 */
import {
  formatChange,
  formatInteger,
  formatMsValue,
  formatMs,
  formatMultiple,
  formatPercent,
  formatPValue,
  formatRate,
  formatWithUnit,
  formatBytes,
} from './units.js';

/** How a cell should be read: a format may colour or mark `good` and `bad`. */
export type CellTone = 'good' | 'bad';

/** One table cell. */
export type Cell =
  /** Free text (a metric, a note, a label). */
  | { kind: 'text'; text: string; tone?: CellTone }
  /** An identifier the reader may search for: an operation, a command, a threshold, a counter. */
  | { kind: 'name'; text: string }
  /** A judgement (`regression`, `FAIL`, ...); `good` and `bad` ones are marked by each format. */
  | { kind: 'verdict'; text: string; tone?: CellTone }
  | { kind: 'empty' }
  | { kind: 'integer'; value: number; tone?: CellTone }
  /** Per second; the unit is in the column header. */
  | { kind: 'rate'; value: number; tone?: CellTone }
  /** A ratio, shown as a percentage. */
  | { kind: 'percent'; value: number; tone?: CellTone }
  /** Milliseconds; `unit: false` when the column header or the table caption names it. */
  | { kind: 'ms'; value: number; unit: boolean }
  /** A relative change with its sign; `null` when there is nothing to compare with. */
  | { kind: 'change'; value: number | null }
  /** `null`: no test was run. */
  | { kind: 'p-value'; value: number | null }
  /** Milliseconds from the baseline to the current run; a side is `null` when it was not measured. */
  | { kind: 'ms-transition'; from: number | null; to: number | null }
  /** A value in the unit a threshold or an evidence names (`ms`, `ratio`, `bytes`, `ops/s`, ...). */
  | { kind: 'quantity'; value: number; unit: string | undefined }
  /** A multiple, `5.7×`. */
  | { kind: 'multiple'; value: number }
  | { kind: 'bytes'; value: number }
  /** A plain number with a fixed number of decimals. */
  | { kind: 'decimal'; value: number; digits: number }
  /** Several values in one cell, `10.2 ms / 14.9 ms`. */
  | { kind: 'group'; cells: Cell[]; separator: string };

/** Typography that differs between formats; the words and numbers never do. */
export interface Glyphs {
  /** Between the baseline and the current value: `->` in plain text, `→` elsewhere. */
  arrow: string;
}

/** What a cell reads as. */
export function cellText(cell: Cell, glyphs: Glyphs): string {
  switch (cell.kind) {
    case 'text':
    case 'name':
    case 'verdict':
      return cell.text;
    case 'empty':
      return '';
    case 'integer':
      return formatInteger(cell.value);
    case 'rate':
      return formatRate(cell.value);
    case 'percent':
      return formatPercent(cell.value);
    case 'ms':
      return cell.unit ? formatMs(cell.value) : formatMsValue(cell.value);
    case 'change':
      return formatChange(cell.value);
    case 'p-value':
      return cell.value === null ? '-' : formatPValue(cell.value);
    case 'ms-transition': {
      // A one-sided row keeps its arrow, so that it says which side was measured.
      const from = cell.from === null ? '' : `${formatMsValue(cell.from)} `;
      const to = cell.to === null ? '' : ` ${formatMsValue(cell.to)}`;
      return `${from}${glyphs.arrow}${to}`;
    }
    case 'quantity':
      return formatWithUnit(cell.value, cell.unit);
    case 'multiple':
      return formatMultiple(cell.value);
    case 'bytes':
      return formatBytes(cell.value);
    case 'decimal':
      return cell.value.toFixed(cell.digits);
    case 'group':
      return cell.cells.map((c) => cellText(c, glyphs)).join(cell.separator);
  }
}

/** The tone of a cell, if it has one. */
export function cellTone(cell: Cell): CellTone | undefined {
  return 'tone' in cell ? cell.tone : undefined;
}

/** Cells whose text comes from the reader's data (names, notes), which a format must escape. */
export function isFreeText(cell: Cell): boolean {
  return cell.kind === 'text' || cell.kind === 'name' || cell.kind === 'verdict';
}
