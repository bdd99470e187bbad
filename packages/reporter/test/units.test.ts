import { expect, test } from 'vitest';
import { formatMs, formatMsValue } from '@stateful-route/reporter';

test('durations read in ms everywhere, with about three significant digits', () => {
  // Below 1 ms too: one unit in every table, never a µs figure beside an ms one.
  expect(formatMs(0.000_4)).toBe('0.000 ms');
  expect(formatMs(0.0412)).toBe('0.041 ms');
  expect(formatMs(0.4123)).toBe('0.412 ms');
  expect(formatMs(1)).toBe('1.00 ms');
  expect(formatMs(1.234)).toBe('1.23 ms');
  expect(formatMs(12.34)).toBe('12.3 ms');
  expect(formatMs(123.4)).toBe('123 ms');
  expect(formatMs(1234.5)).toBe('1,235 ms');
  expect(formatMs(12_345_678)).toBe('12,345,678 ms');
  expect(formatMsValue(0.4123)).toBe('0.412');
  expect(formatMsValue(Number.NaN)).toBe('-');
  expect(formatMsValue(Number.POSITIVE_INFINITY)).toBe('-');
});
