import { randomBytes } from 'node:crypto';

/**
 * A namespace no other test uses, so test files can share one Redis without FLUSHALL.
 * @example uniqueNamespace('links') // 'links-3f9a1c2b'
 */
export function uniqueNamespace(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
