/**
 * Timelines drawn with block characters, for the formats without graphics (text, and
 * Markdown in a code block). The HTML report draws the same series as SVG (`svg.ts`).
 */
import type { TimelineSeries } from './report-model.js';
import { formatInteger, formatMs } from './units.js';

const SPARKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values` with block characters (empty slices are spaces). */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return ' '.repeat(values.length);
  return values
    .map((v) => (v <= 0 ? ' ' : (SPARKS[Math.min(7, Math.floor((v / max) * 7.999))] ?? ' ')))
    .join('');
}

/**
 * Sparklines of calls and of p99 per slice, one line per series, fitting `width` columns
 * (the most recent slices are kept). A heading line starts each of the two groups; series
 * lines are indented by two spaces.
 */
export function sparklineLines(series: readonly TimelineSeries[], width: number): string[] {
  if (series.length === 0) return [];
  const nameWidth = Math.min(22, Math.max(...series.map((s) => s.name.length)));
  const room = width - 2 - nameWidth - 2 - 16;
  const label = (name: string): string =>
    name.length > nameWidth ? `${name.slice(0, nameWidth - 1)}…` : name.padEnd(nameWidth);
  const group = (
    heading: string,
    measure: (slice: TimelineSeries['slices'][number]) => number,
    peak: (value: number) => string,
  ): string[] => [
    heading,
    ...series.map((s) => {
      const values = s.slices.slice(-room).map(measure);
      return `  ${label(s.name)}  ${sparkline(values)}  peak ${peak(Math.max(...values))}`.trimEnd();
    }),
  ];
  return [
    ...group('Calls per slice (each line scaled to its own peak):', (s) => s.count, formatInteger),
    '',
    ...group('p99 latency per slice (each line scaled to its own peak):', (s) => s.p99, formatMs),
  ];
}
