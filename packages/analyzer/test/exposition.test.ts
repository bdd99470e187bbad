import { expect, test } from 'vitest';
import {
  ExpositionParseError,
  fromExposition,
  histogramQuantile,
  parseExposition,
} from '@stateful-route/analyzer';

const op = 'stateful_executor_operations_total';
const err = 'stateful_executor_errors_total';
const h = 'stateful_executor_operation_duration_seconds';

const before = `# HELP ${op} Operations.
# TYPE ${op} counter
${op}{operation="getServiceState",status="success"} 100
${op}{operation="getServiceState",status="error"} 0
${op}{operation="setServiceState",status="success"} 500
${err}{operation="getServiceState",error_type="timeout"} 0
# TYPE ${h} histogram
${h}_bucket{operation="getServiceState",le="0.001"} 50
${h}_bucket{operation="getServiceState",le="0.005"} 90
${h}_bucket{operation="getServiceState",le="0.01"} 100
${h}_bucket{operation="getServiceState",le="+Inf"} 100
${h}_sum{operation="getServiceState"} 0.3
${h}_count{operation="getServiceState"} 100
`;

const after = `# TYPE ${op} counter
${op}{operation="getServiceState",status="success"} 1100
${op}{operation="getServiceState",status="error"} 10
${op}{operation="setServiceState",status="success"} 20
${op}{operation="getLinkedPod",status="success"} 30
${err}{operation="getServiceState",error_type="timeout"} 10
${h}_bucket{operation="getServiceState",le="0.001"} 450
${h}_bucket{operation="getServiceState",le="0.005"} 950
${h}_bucket{operation="getServiceState",le="0.01"} 1090
${h}_bucket{operation="getServiceState",le="+Inf"} 1110
${h}_sum{operation="getServiceState"} 4.3
${h}_count{operation="getServiceState"} 1110
nodejs_version_info{version="v20.20.0",major="20"} 1
nodejs_heap_size_used_bytes 12345678
process_resident_memory_bytes 87654321
nodejs_eventloop_lag_p50_seconds 0.0101
nodejs_eventloop_lag_p99_seconds 0.0202
`;

test('rates and estimated percentiles match hand-computed values', () => {
  const snapshot = fromExposition(before, after, 10, { now: Date.UTC(2026, 0, 1) });
  expect(snapshot.source).toBe('exposition');
  expect(snapshot.provenance.endedAt).toBe('2026-01-01T00:00:00.000Z');
  expect(snapshot.provenance.startedAt).toBe('2025-12-31T23:59:50.000Z');
  expect(snapshot.provenance.node).toBe('v20.20.0');
  const get = snapshot.operations.getServiceState!;
  // 1000 successes + 10 errors over 10 s.
  expect(get.count).toBe(1010);
  expect(get.errors).toBe(10);
  expect(get.errorsByType.timeout).toBe(10);
  expect(get.throughput).toBe(101);
  expect(get.latency.estimated).toBe(true);
  // Bucket deltas: <=1ms 400, <=5ms 860, <=10ms 990, +Inf 1010.
  // p50: rank 505 in (1ms, 5ms]: 1 + 4 * (505 - 400) / 460 = 1.913 ms.
  expect(get.latency.p50).toBe(1.913);
  // p90: rank 909 in (5ms, 10ms]: 5 + 5 * (909 - 860) / 130 = 6.885 ms.
  expect(get.latency.p90).toBe(6.885);
  // p95: rank 959.5: 5 + 5 * 99.5 / 130 = 8.827 ms.
  expect(get.latency.p95).toBe(8.827);
  // p99: rank 999.9 falls in +Inf: the highest finite bound.
  expect(get.latency.p99).toBe(10);
  // mean: 4.0 s / 1010 calls.
  expect(get.latency.mean).toBe(3.96);
  expect(get.latency.min).toBe(0);
  expect(get.latency.max).toBe(10);
  expect(get.histogram).toEqual({
    unit: 'us',
    scheme: 'buckets',
    bounds: [1000, 5000, 10000],
    counts: [400, 460, 130],
    overflow: 20,
  });
  expect(get.timeline).toEqual([{ t: 0, count: 1010, errors: 10, p99: 10 }]);
  // A counter that went back was reset: its new value is the delta.
  expect(snapshot.operations.setServiceState?.count).toBe(20);
  // A series that appears only in the second scrape started from zero.
  expect(snapshot.operations.getLinkedPod?.count).toBe(30);
  expect(snapshot.totals).toEqual({
    count: 1060,
    errors: 10,
    errorRate: 10 / 1060,
    throughput: 106,
  });
  expect(snapshot.process?.heapUsed).toBe(12345678);
  expect(snapshot.process?.rss).toBe(87654321);
  expect(snapshot.process?.eventLoopDelay.p50).toBe(10.1);
  expect(snapshot.process?.eventLoopDelay.p99).toBe(20.2);
});

test('filters by executor label and sums over other labels', () => {
  const a = `${op}{executor="a",operation="getLinkedPod",status="success"} 0
${op}{executor="b",operation="getLinkedPod",status="success"} 0
`;
  const b = `${op}{executor="a",operation="getLinkedPod",status="success"} 7
${op}{executor="b",operation="getLinkedPod",status="success"} 5
`;
  expect(fromExposition(a, b, 1).operations.getLinkedPod?.count).toBe(12);
  expect(fromExposition(a, b, 1, { executor: 'a' }).operations.getLinkedPod?.count).toBe(7);
});

test('histogramQuantile interpolates as Prometheus does', () => {
  const buckets = [
    { le: 0.1, count: 10 },
    { le: 0.2, count: 30 },
    { le: Infinity, count: 40 },
  ];
  expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.1, 12); // rank 10: top of bucket 1
  expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.15, 12); // rank 20: half way in (0.1, 0.2]
  expect(histogramQuantile(0.125, buckets)).toBeCloseTo(0.05, 12); // rank 5 of [0, 0.1]
  expect(histogramQuantile(0.9, buckets)).toBe(0.2); // in +Inf
  expect(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeNaN();
});

test('the parser reads labels with escapes, timestamps and special values', () => {
  const parsed = parseExposition(
    '# TYPE m gauge\nm{a="x\\"y\\\\z\\n",b="2"} 1.5e3 1700000000000\nm_inf +Inf\nm_nan NaN\n  m2{} -2\n',
  );
  expect(parsed.types).toEqual({ m: 'gauge' });
  expect(parsed.samples[0]).toEqual({ name: 'm', labels: { a: 'x"y\\z\n', b: '2' }, value: 1500 });
  expect(parsed.samples[1]?.value).toBe(Infinity);
  expect(parsed.samples[2]?.value).toBeNaN();
  // prom-client writes NaN as `Nan`; Prometheus reads any case.
  expect(parseExposition('# TYPE g gauge\ng Nan\ng2 -inf\n').samples.map((x) => x.value)).toEqual([
    NaN,
    -Infinity,
  ]);
  expect(parsed.samples[3]).toEqual({ name: 'm2', labels: {}, value: -2 });
});

test('the parser reads HELP text with its escapes', () => {
  const parsed = parseExposition(
    '# HELP m Seconds spent: a\\\\b\\nc.\n# TYPE m gauge\n# HELP empty\nm 1\n',
  );
  expect(parsed.help).toEqual({ m: 'Seconds spent: a\\b\nc.', empty: '' });
});

test('OpenMetrics text: exemplars, fractional timestamps and # EOF', () => {
  const parsed = parseExposition(
    '# TYPE a counter\na_total{x="1"} 5 # {trace_id="abc"} 0.5 1700000000.123\na_created{x="1"} 1.7e9\nb 2 1700000000.5\n# EOF\n',
  );
  expect(parsed.samples).toEqual([
    { name: 'a_total', labels: { x: '1' }, value: 5 },
    { name: 'a_created', labels: { x: '1' }, value: 1.7e9 },
    { name: 'b', labels: {}, value: 2 },
  ]);
});

test('malformed lines are typed errors with the line number', () => {
  const bad = (text: string, line: number): void => {
    try {
      parseExposition(text);
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ExpositionParseError);
      expect((error as ExpositionParseError).code).toBe('SR_ANALYZER_EXPOSITION_PARSE');
      expect((error as ExpositionParseError).line).toBe(line);
    }
  };
  bad('ok 1\nm 0x10\n', 2);
  bad('m{a="1"}\n', 1);
  bad('m{a=1} 2\n', 1);
  bad('m{a="1} 2\n', 1);
  bad('# c\n\n{a="1"} 2\n', 3);
  bad('m 1 2 3\n', 1);
  expect(() => fromExposition('', '', 0)).toThrow(/seconds/);
});
