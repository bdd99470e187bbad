import hdr from 'hdr-histogram-js';
import { expect, test } from 'vitest';
import { HdrHistogram } from '@stateful-route/executor-core';

/** mulberry32 */
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

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

test.each([2, 3] as const)(
  'gives the same percentiles as hdr-histogram-js (%i digits)',
  (digits) => {
    const r = random(digits);
    const ours = new HdrHistogram(digits);
    const reference = new hdr.Int32Histogram(1, 0xffffffff, digits);
    // Values from 0 µs to about 70 min, log-uniform, so every bucket range is exercised.
    for (let i = 0; i < 200_000; i += 1) {
      const value = Math.floor(10 ** (r() * 9.6));
      ours.record(value);
      reference.recordValue(value);
    }
    expect(ours.totalCount).toBe(reference.totalCount);
    for (const p of PERCENTILES) {
      expect(ours.valueAtPercentile(p), `p${p}`).toBe(reference.getValueAtPercentile(p));
    }
  },
);

test('exact min, max and mean; merging and resetting', () => {
  const a = new HdrHistogram(3);
  for (const v of [5, 1500, 2049, 1_000_000]) a.record(v);
  expect(a.min).toBe(5);
  expect(a.max).toBe(1_000_000);
  expect(a.mean).toBe((5 + 1500 + 2049 + 1_000_000) / 4);
  // Exact below 2048, 3 significant digits above.
  expect(a.valueAtPercentile(25)).toBe(5);
  expect(a.valueAtPercentile(50)).toBe(1500);
  expect(a.valueAtPercentile(75)).toBe(2049);
  expect(Math.abs(a.valueAtPercentile(100) - 1_000_000)).toBeLessThanOrEqual(1000);

  const b = new HdrHistogram(3);
  b.record(1);
  b.add(a);
  expect(b.totalCount).toBe(5);
  expect(b.min).toBe(1);
  const buckets: [number, number][] = [];
  b.forEachBucket((value, count) => buckets.push([value, count]));
  expect(buckets.map(([, c]) => c).reduce((x, y) => x + y)).toBe(5);
  expect(buckets[0]).toEqual([1, 1]);

  b.reset();
  expect([b.totalCount, b.min, b.max, b.mean, b.valueAtPercentile(50)]).toEqual([0, 0, 0, 0, 0]);
  expect(() => b.add(new HdrHistogram(2))).toThrow(RangeError);
  // Out-of-range values are clamped, never thrown.
  b.record(-5);
  b.record(2 ** 40);
  expect([b.min, b.max]).toEqual([0, 0xffffffff]);
});
