/**
 * Reading values written by any writer (Java, Go, us). Pod ids are decimal integers;
 * state and workload values are opaque.
 */
import { CorruptValueError } from './errors.js';
import { NO_POD } from './executor.js';

/**
 * A stored pod id as a number, or undefined when the value is not a non-negative decimal
 * integer. Leading zeros are accepted on read, as Java's `Integer.parseInt` and Go's
 * `strconv.Atoi` accept them (writers never produce them).
 */
export function parsePodId(value: string): number | undefined {
  // A charCode loop instead of a regex and Number(): this runs for every field of every
  // getServiceState reply, the hottest read.
  const length = value.length;
  if (length === 0 || length > 16) return undefined;
  let pod = 0;
  for (let i = 0; i < length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    pod = pod * 10 + digit;
  }
  // Past 2^53 the sum is rounded, but never down to a safe integer.
  return pod <= Number.MAX_SAFE_INTEGER ? pod : undefined;
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

/**
 * Adds `key` to a result object as an own data property whatever the key (the semantics of
 * `Object.fromEntries`, CreateDataProperty), for keys taken from user data such as service
 * names. Results are plain objects so that they print readably; a plain `out[key] = value`
 * would call the `__proto__` setter of Object.prototype (or any setter installed there)
 * instead of adding the key. Keys that Object.prototype does not have (nearly all) take
 * the plain assignment, which then creates an own property; only the others pay for
 * `Object.defineProperty` (measured: the define for every key costs about 7 times more).
 */
export function putOwn<V>(out: Record<string, V>, key: string, value: V): void {
  if (key in Object.prototype) {
    Object.defineProperty(out, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    out[key] = value;
  }
}

/** getLinkedPod's reading rule: missing or empty is -1, a non-integer is an error. */
export function readLink(key: string, value: string | null): number {
  if (value === null || value === '') return NO_POD;
  const pod = parsePodId(value);
  if (pod === undefined)
    throw new CorruptValueError(key, 'the link value is not a pod id (a decimal integer)');
  return pod;
}
