/**
 * The Prometheus exposition of a histogram series kept as per-bucket (not cumulative)
 * counts: cumulative `_bucket` samples with their `le` labels, then `+Inf`, `_sum` and
 * `_count`. The one place that writes histogram samples: the executor metrics and the
 * server's HTTP metrics both use it.
 */
import type { Sample } from './metric-family.js';

/** The `le` label of each bucket bound, as Prometheus' Go client writes it. */
export function bucketLabels(bounds: readonly number[]): string[] {
  return bounds.map((bound) => String(bound));
}

/**
 * Appends the samples of one series to `out`. `buckets` holds one count per bound in `le`
 * and one more for values above the last bound; `sum` is in the histogram's unit (seconds).
 */
export function histogramSamples(
  name: string,
  le: readonly string[],
  buckets: ArrayLike<number>,
  sum: number,
  labels: Record<string, string>,
  out: Sample[],
): void {
  let cumulative = 0;
  for (let i = 0; i < le.length; i++) {
    cumulative += buckets[i]!;
    out.push({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: le[i]! },
      value: cumulative,
    });
  }
  cumulative += buckets[le.length]!;
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
  out.push({ metricName: `${name}_sum`, labels, value: sum });
  out.push({ metricName: `${name}_count`, labels, value: cumulative });
}
