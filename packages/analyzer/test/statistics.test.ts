import { expect, test } from 'vitest';
import { mannWhitney, welchT } from '@stateful-route/analyzer';

const bins = (values: number[]): Map<number, number> => {
  const map = new Map<number, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return map;
};

// Reference values from scipy.stats (mannwhitneyu asymptotic with continuity correction,
// ttest_ind with equal_var=False).
test('Mann-Whitney U matches the textbook values, with and without ties', () => {
  const separated = mannWhitney(bins([1, 2, 3, 4, 5]), bins([6, 7, 8, 9, 10]));
  expect(separated.u).toBe(25);
  expect(separated.effectSize).toBe(1);
  expect(separated.pValue).toBeCloseTo(0.012185780355344813, 6);

  const ties = mannWhitney(bins([1, 1, 2, 2, 3]), bins([2, 3, 3, 4, 4]));
  expect(ties.u).toBe(22);
  expect(ties.pValue).toBeCloseTo(0.05241162867102868, 6);

  const same = mannWhitney(bins([1, 2, 3]), bins([1, 2, 3]));
  expect(same.pValue).toBe(1);
  expect(same.effectSize).toBe(0.5);
});

test("Welch's t-test matches the textbook value", () => {
  const result = welchT([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
  expect(result?.t).toBeCloseTo(1.8973665961010275, 10);
  expect(result?.df).toBeCloseTo(5.882352941176471, 10);
  expect(result?.pValue).toBeCloseTo(0.10753119493062728, 6);
  expect(welchT([1], [2, 3])).toBeNull();
  expect(welchT([2, 2], [2, 2])?.pValue).toBe(1);
});
