/**
 * How commands print: human tables by default, one JSON document with `--json`. Colours
 * only when the stream is a terminal and `NO_COLOR` is unset (https://no-color.org), so
 * piped output and logs never carry escape codes.
 */
import { formatMs as formatReportMs } from '@stateful-route/reporter';
import type { CliIo, WriteTarget } from './io.js';

/** Styles; each is the identity when colours are off. */
export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const identity = (text: string): string => text;
const PLAIN: Palette = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
};
const sgr =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;
const ANSI: Palette = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
};

/** Whether colours may be written to a stream (a TTY, and NO_COLOR unset or empty). */
export function colorsEnabled(io: CliIo, stream: 'stdout' | 'stderr'): boolean {
  const noColor = io.env['NO_COLOR'];
  return io.isTTY[stream] && (noColor === undefined || noColor === '');
}

/** A command's view of its output. */
export class Output {
  /** `--json`: commands print one JSON document on stdout and nothing else. */
  readonly json: boolean;
  /** Styles for stdout. */
  readonly style: Palette;
  /** Styles for stderr. */
  readonly errStyle: Palette;
  readonly #stdout: WriteTarget;
  readonly #stderr: WriteTarget;

  constructor(io: CliIo, json: boolean) {
    this.json = json;
    this.#stdout = io.stdout;
    this.#stderr = io.stderr;
    this.style = colorsEnabled(io, 'stdout') && !json ? ANSI : PLAIN;
    this.errStyle = colorsEnabled(io, 'stderr') ? ANSI : PLAIN;
  }

  /** Writes a line (or lines) to stdout. */
  line(text = ''): void {
    this.#stdout.write(`${text}\n`);
  }

  /** Writes raw text to stdout (a rendered report, which carries its own newlines). */
  raw(text: string): void {
    this.#stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Writes a note to stderr: never mixed into stdout, so `--json` stays parseable. */
  note(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  /** Prints a value as JSON (with `--json`) or runs the human printer. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else human();
  }

  /** Prints an aligned table with a header row. Numbers are right-aligned. */
  table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
    this.raw(formatTable(headers, rows, this.style));
  }
}

// Formatted figures (`1,234.5`, `0.412 ms`, `12%`, `-`) align to the right like numbers.
const NUMERIC = /^(?:-|[-+]?[0-9][0-9,]*(?:\.[0-9]+)?(?: ?(?:µs|ms|s|%|x|×))?)$/;

// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;]*m/g;
/** The text as it shows: colour escapes take no room in a column. */
const visible = (text: string): string => text.replace(ESCAPES, '');

/** An aligned plain-text table (two spaces between columns, numbers right-aligned). */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  style: Palette = PLAIN,
): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const numeric = headers.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every((row) => typeof row[i] === 'number' || NUMERIC.test(visible(String(row[i])))),
  );
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => visible(row[i] ?? '').length)),
  );
  const pad = (text: string, i: number): string =>
    numeric[i]
      ? ' '.repeat(widths[i]! - visible(text).length) + text
      : text + ' '.repeat(widths[i]! - visible(text).length);
  const lines = [
    style.bold(
      headers
        .map((header, i) => pad(header, i))
        .join('  ')
        .trimEnd(),
    ),
    ...cells.map((row) =>
      headers
        .map((_, i) => pad(row[i] ?? '', i))
        .join('  ')
        .trimEnd(),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** A number with thousands separators and at most `digits` decimals. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/**
 * A latency in ms (`0.412 ms`, `12.3 ms`): the reporter's formatter, so that `bench`,
 * `compare` and `report` print the same figure the same way. `-` when not measured.
 */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return formatReportMs(ms);
}
