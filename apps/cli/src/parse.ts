/**
 * Strict parsing of command-line values. Commander hands every value over as a string; a
 * value that is not exactly what it claims to be is a usage error naming the field, never a
 * silent `parseInt` that turns `3.5` into 3 or `03x` into 3.
 */
import { ValidationError } from '@stateful-route/executor-core';
import { UsageError } from './errors.js';

// Canonical decimal integers only: the contract stores pod ids as canonical decimals, so
// `03` (which Redis would keep as a different pod than `3`) is refused rather than guessed,
// and so is `-0` (Number() reads it as pod 0).
const INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * A canonical decimal integer (`3`, `-1`, `0`). `3.5`, `03x`, `03`, `''`, `1e3` are refused.
 * @throws SR_VALIDATION naming the field (exit 2)
 */
export function parseInteger(value: string, field: string): number {
  if (!INTEGER.test(value)) {
    throw new ValidationError(
      field,
      'integer',
      `must be a decimal integer without leading zeros (got ${quote(value)})`,
    );
  }
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new ValidationError(field, 'range', `must be a safe integer (got ${quote(value)})`);
  }
  return number;
}

/** A positive integer option (`--concurrency`, `--keys`). @throws SR_VALIDATION */
export function parsePositiveInteger(value: string, field: string, max = 1_000_000): number {
  const number = parseInteger(value, field);
  if (number < 1 || number > max) {
    throw new ValidationError(field, 'range', `must be from 1 to ${max} (got ${quote(value)})`);
  }
  return number;
}

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/**
 * A duration such as `500ms`, `10s`, `1.5s`, `2m`, or a bare number of seconds, in ms.
 * @throws SR_CLI_USAGE (exit 2)
 */
export function parseDuration(value: string, field: string, minMs = 1): number {
  const match = DURATION.exec(value.trim());
  if (!match) {
    throw new UsageError(
      `${field}: must be a duration like 500ms, 10s or 2m (got ${quote(value)})`,
      {
        field,
      },
    );
  }
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS];
  if (!Number.isFinite(ms) || ms < minMs || ms > 24 * 3_600_000) {
    throw new UsageError(`${field}: must be from ${minMs}ms to 24h (got ${quote(value)})`, {
      field,
    });
  }
  return Math.round(ms);
}

/** A user value, quoted and cut short for an error message. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}
