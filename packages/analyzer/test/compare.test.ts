import { afterEach, expect, test } from 'vitest';
import {
  compare,
  checkThresholds,
  createAnalyzer,
  parseThreshold,
  SnapshotSchemaError,
  ThresholdSyntaxError,
} from '@stateful-route/analyzer';
import type { AnalysisSnapshot, Analyzer } from '@stateful-route/analyzer';

const open: Analyzer[] = [];
afterEach(() => {
  for (const a of open.splice(0)) a.close();
});

/** mulberry32, so the synthetic runs are reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 10-second run: per one-second slice about `perSlice` calls of each operation, with
 * log-normal-ish latencies around `medianMs` times `slowdown` (getServiceState only).
 */
function run(seed: number, slowdown = 1, perSlice = 500): AnalysisSnapshot {
  let clock = 0;
  const analyzer = createAnalyzer({
    executor: 'synthetic',
    now: () => clock,
    processMetrics: false,
  });
  open.push(analyzer);
  const r = random(seed);
  for (let slice = 0; slice < 10; slice += 1) {
    clock = slice * 1000 + 10;
    const calls = perSlice + Math.floor((r() - 0.5) * perSlice * 0.1);
    for (let i = 0; i < calls; i += 1) {
      const noise = Math.exp((r() + r() + r() - 1.5) * 0.6);
      analyzer.record({ operation: 'getServiceState', durationMs: 0.8 * noise * slowdown });
      analyzer.record({ operation: 'setLinkedPodIfAbsent', durationMs: 1.2 * noise });
    }
  }
  clock = 10_000;
  return analyzer.snapshot();
}

test('a 2x slowdown is flagged as a significant regression', () => {
  const baseline = run(1);
  const current = run(2, 2);
  const result = compare(baseline, current);
  const get = result.operations.find((o) => o.operation === 'getServiceState')!;
  expect(get.significant).toBe(true);
  expect(get.pValue).toBeLessThan(1e-6);
  expect(get.latencyTest?.effectSize).toBeGreaterThan(0.9);
  expect(get.change.p50).toBeGreaterThan(0.8);
  expect(get.change.p50).toBeLessThan(1.2);
  expect(get.verdict).toBe('regression');
  expect(get.reasons.join(' ')).toMatch(/p50 \+\d+%/);
  // The other operation did not move.
  const link = result.operations.find((o) => o.operation === 'setLinkedPodIfAbsent')!;
  expect(link.verdict).toBe('unchanged');
  expect(result.verdict.pass).toBe(false);
  expect(result.verdict.regressions).toEqual(['getServiceState']);
  // And the other way round it is an improvement, which passes.
  const back = compare(current, baseline);
  expect(back.verdict.improvements).toEqual(['getServiceState']);
  expect(back.verdict.pass).toBe(true);
});

test('identical runs are not flagged; neither are two runs of the same distribution', () => {
  const baseline = run(1);
  const same = compare(baseline, structuredClone(baseline));
  for (const op of same.operations) {
    expect(op.significant).toBe(false);
    expect(op.pValue).toBe(1);
    expect(op.verdict).toBe('unchanged');
  }
  expect(same.verdict.pass).toBe(true);

  const rerun = compare(baseline, run(7));
  for (const op of rerun.operations) expect(op.verdict).toBe('unchanged');
  expect(rerun.verdict.pass).toBe(true);
});

test('a throughput drop is tested on the timeline slices', () => {
  const result = compare(run(1, 1, 500), run(2, 1, 250));
  const get = result.operations.find((o) => o.operation === 'getServiceState')!;
  expect(get.throughputTest?.test).toBe('welch-t');
  expect(get.throughputTest?.pValue).toBeLessThan(1e-6);
  expect(get.change.throughput).toBeCloseTo(-0.5, 1);
  expect(get.verdict).toBe('regression');
});

test('operations present on one side only are listed, not judged', () => {
  const baseline = run(1);
  const current = structuredClone(baseline);
  delete current.operations.setLinkedPodIfAbsent;
  const result = compare(baseline, current);
  expect(result.operations.find((o) => o.operation === 'setLinkedPodIfAbsent')?.presence).toBe(
    'removed',
  );
  expect(result.verdict.pass).toBe(true);
});

test('thresholds: per operation, every operation, totals', () => {
  const snapshot = run(1);
  const p99 = snapshot.operations.getServiceState!.latency.p99;
  const results = checkThresholds(snapshot, [
    `getServiceState.p99<${p99 + 1}ms`,
    `getServiceState.p99<${(p99 / 2) * 1000}us`,
    'p99<100ms',
    'errorRate<0.1%',
    'throughput>900',
    'throughput>1e6',
    'missing.p50<1ms',
  ]);
  expect(results.map((r) => [r.threshold.source, r.operation, r.pass])).toEqual([
    [`getServiceState.p99<${p99 + 1}ms`, 'getServiceState', true],
    [`getServiceState.p99<${(p99 / 2) * 1000}us`, 'getServiceState', false],
    ['p99<100ms', 'getServiceState', true],
    ['p99<100ms', 'setLinkedPodIfAbsent', true],
    ['errorRate<0.1%', null, true],
    ['throughput>900', null, true],
    ['throughput>1e6', null, false],
    ['missing.p50<1ms', 'missing', false],
  ]);
  expect(results.at(-1)?.note).toBe('operation not measured');
  const verdict = compare(snapshot, snapshot, { thresholds: ['throughput>1e6'] }).verdict;
  expect(verdict).toMatchObject({ pass: false, failedThresholds: 1, regressions: [] });
});

test('parseThreshold normalises units and rejects bad syntax with a typed error', () => {
  expect(parseThreshold('getServiceState.p99<5ms')).toEqual({
    source: 'getServiceState.p99<5ms',
    operation: 'getServiceState',
    metric: 'p99',
    comparator: '<',
    value: 5,
    unit: 'ms',
  });
  expect(parseThreshold('p999 <= 1.5s')).toMatchObject({
    metric: 'p999',
    comparator: '<=',
    value: 1500,
  });
  expect(parseThreshold('p50<250us').value).toBeCloseTo(0.25, 12);
  expect(parseThreshold('errorRate<0.1%').value).toBeCloseTo(0.001, 12);
  expect(parseThreshold('errorRate<0.01')).toMatchObject({ value: 0.01, unit: 'ratio' });
  expect(parseThreshold('throughput>=1000/s')).toMatchObject({ value: 1000, unit: 'ops/s' });
  for (const [input, reason] of [
    ['p99<<5ms', /expected a number/],
    ['p98<5ms', /unknown metric "p98"/],
    ['errorRate<5ms', /errorRate takes "%"/],
    ['p99=5', /use <, <=, > or >=/],
    ['p99 5ms', /expected a comparison/],
    ['p99<5kg', /not a time unit/],
    ['throughput>5ms', /ops\/s/],
    ['errorRate<150%', /cannot exceed/],
    ['', /expected a comparison/],
  ] as const) {
    let caught: unknown;
    try {
      parseThreshold(input);
    } catch (error) {
      caught = error;
    }
    expect(caught, input).toBeInstanceOf(ThresholdSyntaxError);
    expect((caught as ThresholdSyntaxError).code).toBe('SR_ANALYZER_THRESHOLD_SYNTAX');
    expect((caught as ThresholdSyntaxError).input).toBe(input);
    expect((caught as ThresholdSyntaxError).reason).toMatch(reason);
  }
});

test('a value that is not a version-1 snapshot is refused', () => {
  const snapshot = run(1);
  expect(() => compare({ ...snapshot, schemaVersion: 2 } as never, snapshot)).toThrow(
    SnapshotSchemaError,
  );
  expect(() => compare(null as never, snapshot)).toThrow(/baseline is not an object/);
});

test('live and exposition histograms are not ranked against each other', () => {
  const baseline = run(1);
  const current = structuredClone(baseline);
  for (const op of Object.values(current.operations)) {
    op.histogram = {
      unit: 'us',
      scheme: 'buckets',
      bounds: [1000, 5000],
      counts: [1, op.count - 1],
      overflow: 0,
    };
  }
  const result = compare(baseline, current);
  for (const op of result.operations) {
    expect(op.latencyTest).toBeNull();
    expect(op.pValue).toBe(1);
    expect(op.reasons[0]).toMatch(/different buckets/);
  }
});
