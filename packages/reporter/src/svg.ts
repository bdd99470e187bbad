/**
 * Inline SVG charts for the HTML report, drawn by hand: no chart library, no script, no
 * external resource. Every chart has a `<title>` and text labels, so it reads without
 * colour too.
 */
import type { CompactHistogram, TimelineSlice } from '@stateful-route/analyzer';
import type { PercentileBar, TimelineSeries } from './report-model.js';
import { formatInteger, formatMsValue, formatRate } from './units.js';

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A colour-blind-friendly palette (Okabe-Ito), cycled for series. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
];

/** Ratio between consecutive bounds of the analyzer's live log scale (50 per decade). */
const LOG_STEP = 10 ** (1 / 50);

const n = (x: number): string => (Math.round(x * 10) / 10).toString();

/** A "nice" axis maximum at or above `value` (1, 2, 2.5, 5 x 10^k). */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/**
 * Horizontal bars of latency percentiles (ms), one row per percentile and one bar per
 * series (a single series, or baseline and current).
 */
export function percentileChart(
  title: string,
  bars: readonly PercentileBar[],
  seriesNames: readonly string[],
): string {
  const width = 420;
  const labelWidth = 48;
  const valueWidth = 70;
  const barHeight = 12;
  const seriesCount = Math.max(1, seriesNames.length);
  const rowHeight = seriesCount * barHeight + 8;
  const legendHeight = seriesCount > 1 ? 18 : 0;
  const height = legendHeight + bars.length * rowHeight + 6;
  const max = niceMax(Math.max(0, ...bars.flatMap((b) => b.values)));
  const plotWidth = width - labelWidth - valueWidth;
  const parts: string[] = [];
  if (seriesCount > 1) {
    seriesNames.forEach((name, i) => {
      const x = labelWidth + i * 110;
      parts.push(
        `<rect x="${x}" y="3" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`,
        `<text x="${x + 14}" y="12" class="legend">${escapeHtml(name)}</text>`,
      );
    });
  }
  bars.forEach((bar, row) => {
    const y0 = legendHeight + row * rowHeight;
    parts.push(
      `<text x="${labelWidth - 6}" y="${n(y0 + rowHeight / 2 + 3)}" text-anchor="end" class="axis">${escapeHtml(bar.label)}</text>`,
    );
    bar.values.forEach((value, i) => {
      const w = Math.max(1, (value / max) * plotWidth);
      const y = y0 + 4 + i * barHeight;
      parts.push(
        `<rect x="${labelWidth}" y="${n(y)}" width="${n(w)}" height="${barHeight - 2}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeHtml(`${seriesNames[i] ?? ''} ${bar.label} ${formatMsValue(value)} ms`.trim())}</title></rect>`,
        `<text x="${n(labelWidth + w + 4)}" y="${n(y + barHeight - 3)}" class="value">${formatMsValue(value)} ms</text>`,
      );
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
}

/**
 * A latency histogram on a logarithmic time axis: one bar per compact bucket, spanning
 * its bucket's range, height proportional to its count.
 */
export function histogramChart(title: string, histogram: CompactHistogram): string {
  const width = 420;
  const height = 150;
  const left = 44;
  const right = 10;
  const top = 8;
  const bottom = 26;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  // Each bucket's range: one log step below its bound on the live scale, the previous
  // bound for Prometheus buckets (whose list includes the empty ones).
  const all = histogram.bounds.map((bound, i) => ({
    bound,
    lower: histogram.scheme === 'buckets' ? (histogram.bounds[i - 1] ?? 0) : bound / LOG_STEP,
    count: histogram.counts[i] ?? 0,
  }));
  const buckets = all.filter((b) => b.count > 0 && b.bound > 0);
  if (buckets.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} 40" width="${width}" height="40" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title><text x="${left}" y="24" class="axis">no samples</text></svg>`;
  }
  const last = buckets[buckets.length - 1]?.bound ?? 10;
  const lower = (i: number): number => {
    const b = buckets[i];
    // A first Prometheus bucket starts at 0, which a log axis cannot show: one decade below.
    return b ? (b.lower > 0 ? b.lower : b.bound / 10) : 1;
  };
  const minLog = Math.floor(Math.log10(lower(0)));
  const maxLog = Math.max(minLog + 1, Math.ceil(Math.log10(last)));
  const x = (us: number): number =>
    left + ((Math.log10(Math.max(us, 10 ** minLog)) - minLog) / (maxLog - minLog)) * plotWidth;
  // Prometheus buckets differ in width: bar heights are then densities (calls per decade of
  // latency), so a wide bucket does not look more crowded than it is. Live buckets are all
  // one log step wide, where density and count agree.
  const byDensity = histogram.scheme === 'buckets';
  const barValue = (b: { count: number; bound: number }, i: number): number =>
    byDensity ? b.count / Math.max(1e-9, Math.log10(b.bound / lower(i))) : b.count;
  const maxCount = Math.max(...buckets.map(barValue));
  const parts: string[] = [
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}" class="grid"/>`,
  ];
  for (let k = minLog; k <= maxLog; k += 1) {
    const us = 10 ** k;
    const label =
      us >= 1_000_000 ? `${us / 1_000_000} s` : us >= 1000 ? `${us / 1000} ms` : `${us} µs`;
    // The outermost labels are anchored inwards so that they are not cut at the edges.
    const anchor = k === minLog ? 'start' : k === maxLog ? 'end' : 'middle';
    parts.push(
      `<line x1="${n(x(us))}" y1="${top}" x2="${n(x(us))}" y2="${top + plotHeight}" class="grid"/>`,
      `<text x="${n(x(us))}" y="${height - 8}" text-anchor="${anchor}" class="axis">${label}</text>`,
    );
  }
  parts.push(
    `<text x="${left - 4}" y="${top + 8}" text-anchor="end" class="axis">${byDensity ? 'peak' : formatInteger(maxCount)}</text>`,
    `<text x="${left - 4}" y="${top + plotHeight}" text-anchor="end" class="axis">0</text>`,
  );
  buckets.forEach((bucket, i) => {
    const x0 = x(lower(i));
    const x1 = x(bucket.bound);
    const h = Math.max(1, (barValue(bucket, i) / maxCount) * plotHeight);
    parts.push(
      `<rect x="${n(x0)}" y="${n(top + plotHeight - h)}" width="${n(Math.max(1, x1 - x0))}" height="${n(h)}" fill="${PALETTE[0]}"><title>≤ ${formatMsValue(bucket.bound / 1000)} ms: ${formatInteger(bucket.count)}</title></rect>`,
    );
  });
  if (histogram.overflow > 0) {
    parts.push(
      `<text x="${width - right}" y="${top + 10}" text-anchor="end" class="axis">+${formatInteger(histogram.overflow)} above ${formatMsValue((histogram.bounds.at(-1) ?? 0) / 1000)} ms</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
}

/**
 * Throughput over time (calls per second per slice), one line per series, coloured in
 * palette order (the caller prints the legend as HTML so names stay selectable text).
 */
export function timelineChart(
  title: string,
  series: readonly TimelineSeries[],
  measure: 'throughput' | 'p99' = 'throughput',
): string {
  const width = 860;
  const height = 240;
  const left = 56;
  const right = 12;
  const top = 12;
  const bottom = 46;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const all = series.flatMap((s) => s.slices);
  const ts = all.map((s) => s.t);
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  // Slice width from consecutive slices; a single slice spans one second.
  const first = series.find((s) => s.slices.length > 1)?.slices;
  const sliceWidth = first && first.length > 1 ? (first[1]?.t ?? 1) - (first[0]?.t ?? 0) || 1 : 1;
  // Empty slices have no p99: they are left out of the latency lines instead of drawn at 0.
  const rate = (slice: TimelineSlice): number =>
    measure === 'p99' ? slice.p99 : slice.count / sliceWidth;
  const format = (v: number): string =>
    v === 0 ? '0' : measure === 'p99' ? formatMsValue(v) : formatRate(v);
  const max = niceMax(Math.max(0, ...all.map(rate)));
  const span = Math.max(sliceWidth, t1 - t0);
  const x = (t: number): number => left + ((t - t0) / span) * plotWidth;
  const y = (v: number): number => top + plotHeight - (v / max) * plotHeight;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i += 1) {
    const v = (max / 4) * i;
    parts.push(
      `<line x1="${left}" y1="${n(y(v))}" x2="${width - right}" y2="${n(y(v))}" class="grid"/>`,
      `<text x="${left - 6}" y="${n(y(v) + 4)}" text-anchor="end" class="axis">${format(v)}</text>`,
    );
  }
  const ticks = Math.min(10, Math.max(1, Math.round(span / sliceWidth)));
  for (let i = 0; i <= ticks; i += 1) {
    const t = t0 + (span / ticks) * i;
    parts.push(
      `<text x="${n(x(t))}" y="${top + plotHeight + 16}" text-anchor="middle" class="axis">${n(t)} s</text>`,
    );
  }
  parts.push(
    `<text x="${left}" y="${top + plotHeight + 32}" class="axis">${measure === 'p99' ? 'p99 latency in ms' : 'calls/s'} per ${sliceWidth} s slice, by operation</text>`,
  );
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] ?? '#000';
    const points = s.slices
      .filter((slice) => measure !== 'p99' || slice.count > 0)
      .map((slice) => `${n(x(slice.t))},${n(y(rate(slice)))}`)
      .join(' ');
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"><title>${escapeHtml(s.name)}</title></polyline>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
}
