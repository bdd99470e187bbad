// Cost of recording one latency, side by side in one run: hdr-histogram-js (its JavaScript
// build, as the analyzer first used it) against the project's own HDR histogram, and
// `analyzer.record()` (samples that are not executor calls; executor calls are recorded by the
// executor's telemetry and read by the analyzer, see harness.mjs). Prints figures; asserts
// nothing. Part of `pnpm --filter @stateful-route/analyzer bench` (builds first).
import process from 'node:process';
import hdr from 'hdr-histogram-js';
import { createAnalyzer } from '@stateful-route/analyzer';
// The project's HDR histogram (executor-core owns it: telemetry records into it).
import { HdrHistogram } from '@stateful-route/executor-core';

const N = 2_000_000;
const values = Float64Array.from({ length: 4096 }, (_, i) =>
  Math.floor(10 ** (2 + (i % 400) / 100)),
);

function time(label, record) {
  // Warm up, then take the best of three so that a busy machine hurts less.
  for (let i = 0; i < N / 10; i += 1) record(values[i & 4095]);
  let best = Infinity;
  for (let round = 0; round < 3; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i += 1) record(values[i & 4095]);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / N);
  }
  return { label, nsPerValue: best };
}

const library = new hdr.Int32Histogram(1, 0xffffffff, 3);
const own = new HdrHistogram(3);
const analyzer = createAnalyzer({ processMetrics: false });
const results = [
  time('hdr-histogram-js Int32Histogram.recordValue', (v) => library.recordValue(v)),
  time('analyzer HdrHistogram.record', (v) => own.record(v)),
  time('analyzer.record (2 histograms, slice, counters)', (v) =>
    analyzer.record({ operation: 'getServiceState', durationMs: v / 1000 }),
  ),
];
analyzer.close();
for (const { label, nsPerValue } of results) {
  process.stdout.write(`${label.padEnd(50)} ${nsPerValue.toFixed(0).padStart(6)} ns per value\n`);
}
process.stdout.write(
  `ratio hdr-histogram-js / own histogram: ${(results[0].nsPerValue / results[1].nsPerValue).toFixed(2)}x\n`,
);
