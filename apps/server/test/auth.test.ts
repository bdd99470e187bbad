// The bearer check compares in a reused fixed-size slot: what one call leaves there must never
// decide the next, and a token is equal only byte for byte and length for length.
import { expect, test } from 'vitest';
import { bearerChecker } from '../src/auth.js';

const TOKEN = 'bench-token-0123456789';

test('exactly the token, any scheme case, surrounding spaces trimmed', () => {
  const check = bearerChecker(TOKEN);
  expect(check(`Bearer ${TOKEN}`)).toBe(true);
  expect(check(`bEaReR ${TOKEN}`)).toBe(true);
  expect(check(`Bearer   ${TOKEN}  `)).toBe(true);
  for (const header of [
    undefined,
    '',
    'Bearer ',
    TOKEN,
    `Basic ${TOKEN}`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN}\u0000`,
    `Bearer ${TOKEN.slice(0, -1)}\u00e9`,
    `Bearer ${TOKEN.toUpperCase()}`,
    `Bearer ${'x'.repeat(300)}`,
    `Bearer ${TOKEN}${'\u0000'.repeat(300)}`,
  ]) {
    expect(check(header), JSON.stringify(header)).toBe(false);
  }
});

test('what a previous call left in the slot never matters', () => {
  const check = bearerChecker(TOKEN);
  expect(check(`Bearer ${TOKEN}${'y'.repeat(200)}`)).toBe(false);
  expect(check(`Bearer ${TOKEN}`)).toBe(true);
  // The right token leaves its bytes in the slot: a prefix of it stays wrong.
  expect(check(`Bearer ${TOKEN.slice(0, 10)}`)).toBe(false);
  expect(check(`Bearer ${TOKEN}`)).toBe(true);
});

test('a token longer than the 256-byte slot is compared in a slot of its size', () => {
  const long = 'k'.repeat(300) + 'end';
  const check = bearerChecker(long);
  expect(check(`Bearer ${long}`)).toBe(true);
  expect(check(`Bearer ${long.slice(0, -1)}`)).toBe(false);
  expect(check(`Bearer ${long}x`)).toBe(false);
  expect(check(`Bearer ${'k'.repeat(303)}`)).toBe(false);
});
