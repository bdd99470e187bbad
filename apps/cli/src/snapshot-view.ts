/** How a snapshot reads in a terminal: one row per operation, slowest p99 first. */
import type { AnalysisSnapshot } from '@stateful-route/analyzer';
import { formatMs, formatNumber, type Output } from './output.js';

/** Prints the per-operation table and a totals line of a snapshot. */
export function printSnapshot(out: Output, snapshot: AnalysisSnapshot): void {
  const rows = Object.entries(snapshot.operations)
    .sort((a, b) => b[1].latency.p99 - a[1].latency.p99)
    .map(([name, op]) => [
      name,
      formatNumber(op.count),
      formatNumber(op.errors),
      formatNumber(op.throughput, 1),
      formatMs(op.latency.p50),
      formatMs(op.latency.p95),
      formatMs(op.latency.p99),
      formatMs(op.latency.max),
    ]);
  if (rows.length === 0) {
    out.line('no operations measured');
    return;
  }
  const estimated = Object.values(snapshot.operations).some((op) => op.latency.estimated);
  out.table(['OPERATION', 'CALLS', 'ERRORS', 'OPS/S', 'P50', 'P95', 'P99', 'MAX'], rows);
  const { totals } = snapshot;
  out.line(
    `total: ${formatNumber(totals.count)} calls, ${formatNumber(totals.throughput, 1)} ops/s, ` +
      `${formatNumber(totals.errors)} errors (${formatNumber(totals.errorRate * 100, 3)}%) ` +
      `over ${formatNumber(snapshot.provenance.durationSeconds, 1)} s`,
  );
  if (estimated) {
    out.line(out.style.dim('latencies are estimates from Prometheus histogram buckets'));
  }
}
