/**
 * Reading values written by any writer (Java, Go, us). Pod ids are decimal integers;
 * state and workload values are opaque.
 */

const DIGITS = /^[0-9]{1,16}$/;

/**
 * A stored pod id as a number, or undefined when the value is not a non-negative decimal
 * integer. Leading zeros are accepted on read, as Java's `Integer.parseInt` and Go's
 * `strconv.Atoi` accept them (writers never produce them).
 */
export function parsePodId(value: string): number | undefined {
  if (!DIGITS.test(value)) return undefined;
  const pod = Number(value);
  return Number.isSafeInteger(pod) ? pod : undefined;
}

/** The workload values that mean "absent" (contract, getWorkloadState). */
export function isAbsentWorkload(value: string | null | undefined): value is null | undefined {
  return (
    value === null || value === undefined || value === '' || value === 'null' || value === 'nil'
  );
}

/** Values that `batchGetLinkedPod` skips silently besides non-integers. */
export function isAbsentLink(value: string | null | undefined): value is null | undefined {
  return (
    value === null || value === undefined || value === '' || value === 'null' || value === 'nil'
  );
}

/** A null-prototype record, safe for keys such as `__proto__` taken from user data. */
export function record<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
