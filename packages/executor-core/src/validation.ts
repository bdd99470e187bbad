/**
 * The input rules of the contract (section 4), checked before any I/O. Messages name the
 * field and the rule, never the value: values may be user data and errors reach logs.
 */
import { ValidationError } from './errors.js';

/** Longest namespace, service or uid, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;
/** Largest persistSeconds (a signed 32-bit integer, as the originals' scripts take). */
export const MAX_PERSIST_SECONDS = 2 ** 31 - 1;

// Braces break the hash tag; C0, DEL and C1 control characters are never legitimate ids.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[{}\u0000-\u001f\u007f-\u009f]/;
// A UTF-16 code unit takes at most 3 UTF-8 bytes, so shorter strings need no byte count.
const SURELY_SHORT = Math.floor(MAX_ID_BYTES / 3);

// The hot path: most ids are short printable ASCII without spaces or braces, which passes
// every rule. One charCode loop answers that without trim(), a regex or a byte count; any
// other id takes the full checks below (and gets their precise rule on failure).
// `also` is one more code unit to refuse in the same loop (':' for namespaces, -1 for none).
function isPlainAscii(value: string, also: number): boolean {
  const length = value.length;
  if (length === 0 || length > MAX_ID_BYTES) return false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    // 0x21..0x7e is printable ASCII without space; 0x7b and 0x7d are the braces.
    if (c < 0x21 || c > 0x7e || c === 0x7b || c === 0x7d || c === also) return false;
  }
  return true;
}

const NONE = -1;
const COLON = 0x3a;

/**
 * Checks a service or uid (a namespace: `checkNamespace`): a string, not blank, no `{` `}`,
 * no control characters, well-formed Unicode, at most 512 UTF-8 bytes. The id is stored as
 * given.
 * @throws SR_VALIDATION
 */
export function checkId(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw new ValidationError(field, 'type', 'must be a string');
  if (isPlainAscii(value, NONE)) return;
  checkIdRules(value, field);
}

/**
 * Checks a namespace: the rules of `checkId`, and no `:`. The key kinds are told apart by
 * the word after the namespace (`state:`, `workload:`, `lk:`), so a namespace holding `:`
 * could spell another namespace's key (contract section 4).
 * @example
 * checkNamespace('default'); // passes
 * checkNamespace('a:lk:b'); // throws ValidationError: field 'namespace', rule 'forbidden-character'
 * @throws SR_VALIDATION
 */
export function checkNamespace(value: unknown, field = 'namespace'): asserts value is string {
  if (typeof value !== 'string') throw new ValidationError(field, 'type', 'must be a string');
  if (isPlainAscii(value, COLON)) return;
  checkIdRules(value, field);
  if (value.includes(':')) {
    throw new ValidationError(field, 'forbidden-character', "must not contain ':'");
  }
}

// The full id rules, for the strings the fast path did not settle.
function checkIdRules(value: string, field: string): void {
  if (value.trim().length === 0) throw new ValidationError(field, 'blank', 'must not be blank');
  if (FORBIDDEN.test(value)) {
    if (value.includes('{') || value.includes('}')) {
      throw new ValidationError(field, 'forbidden-character', "must not contain '{' or '}'");
    }
    throw new ValidationError(field, 'control-character', 'must not contain control characters');
  }
  if (!value.isWellFormed()) {
    throw new ValidationError(
      field,
      'malformed-unicode',
      'must be well-formed Unicode (no lone surrogates)',
    );
  }
  if (value.length > SURELY_SHORT && Buffer.byteLength(value, 'utf8') > MAX_ID_BYTES) {
    throw new ValidationError(field, 'too-long', `must be at most ${MAX_ID_BYTES} bytes in UTF-8`);
  }
}

/** A pod id: a safe integer >= 0. @throws SR_VALIDATION */
export function checkPodId(value: unknown, field = 'podId'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError(field, 'integer', 'must be a safe integer');
  }
  if (value < 0)
    throw new ValidationError(
      field,
      'range',
      'must be >= 0 (-1 is the "no pod" sentinel, not a pod)',
    );
}

/** persistSeconds: -1 (permanent) or 1..2^31-1 (temporary). @throws SR_VALIDATION */
export function checkPersistSeconds(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError('persistSeconds', 'integer', 'must be an integer');
  }
  if (value !== -1 && (value < 1 || value > MAX_PERSIST_SECONDS)) {
    throw new ValidationError(
      'persistSeconds',
      'range',
      `must be -1 (permanent) or 1..${MAX_PERSIST_SECONDS}`,
    );
  }
}

/**
 * An options argument: a plain object (an object literal or a null-prototype object, not an
 * array, a class instance or a primitive) whose keys are all among `known`. A misspelt key
 * (`persistSecond`) is refused rather than ignored. Inherited enumerable keys count too.
 * @throws SR_VALIDATION field `options` rule `type`, or field `<key>` rule `unknown-option`
 */
export function checkOptions(
  value: unknown,
  known: readonly string[],
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError('options', 'type', 'must be a plain object');
  }
  // A plain object's prototype is a root prototype (Object.prototype of any realm) or null.
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== null && Object.getPrototypeOf(proto) !== null) {
    throw new ValidationError('options', 'type', 'must be a plain object');
  }
  // for-in instead of Object.keys: no array per call on the link writes, a hot path.
  for (const key in value) {
    if (!known.includes(key)) {
      throw new ValidationError(
        key,
        'unknown-option',
        `is not an option here (the options are ${known.join(', ')})`,
      );
    }
  }
}

/** A required option: present and not undefined. @throws SR_VALIDATION rule `required` */
export function checkRequired(value: unknown, field: string): void {
  if (value === undefined) throw new ValidationError(field, 'required', 'is required');
}

/** keepSeconds: an integer >= -1 (it has no effect, as in the Java contract). @throws SR_VALIDATION */
export function checkKeepSeconds(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError('keepSeconds', 'integer', 'must be an integer');
  }
  if (value < -1) throw new ValidationError('keepSeconds', 'range', 'must be >= -1');
}

/** A state value: a non-blank, well-formed string (stored unchanged). @throws SR_VALIDATION */
export function checkState(value: unknown, field = 'state'): asserts value is string {
  if (typeof value !== 'string') throw new ValidationError(field, 'type', 'must be a string');
  if (value.trim().length === 0) throw new ValidationError(field, 'blank', 'must not be blank');
  if (!value.isWellFormed()) {
    throw new ValidationError(
      field,
      'malformed-unicode',
      'must be well-formed Unicode (no lone surrogates)',
    );
  }
}

/**
 * A workload state: any well-formed string. The contract rejects only blank ns and svc here;
 * `""`, `"null"` and `"nil"` are stored and then read back as absent.
 * @throws SR_VALIDATION
 */
export function checkWorkloadState(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new ValidationError('state', 'type', 'must be a string');
  if (!value.isWellFormed()) {
    throw new ValidationError(
      'state',
      'malformed-unicode',
      'must be well-formed Unicode (no lone surrogates)',
    );
  }
}

/** An array of ids; each element is checked as `field[i]`. @throws SR_VALIDATION */
export function checkIdList(value: unknown, field: string): asserts value is readonly string[] {
  if (!Array.isArray(value))
    throw new ValidationError(field, 'type', 'must be an array of strings');
  for (let i = 0; i < value.length; i++) checkId(value[i], `${field}[${i}]`);
}
