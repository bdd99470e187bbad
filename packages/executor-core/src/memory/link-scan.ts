/**
 * `scanLinks` on the memory backend: the same listing as on Redis over the in-process
 * keyspace. Links come in key order, and the cursor is the last key returned, so a link that
 * exists for the whole scan is returned exactly once (the layout is in ../link-scan.ts).
 */
import { ValidationError } from '../errors.js';
import { linkKeyPrefix } from '../keys.js';
import {
  checkLinkScan,
  cursorString,
  decodeCursor,
  encodeCursor,
  parseLinkKey,
  scannedLink,
  type LinkScanOptions,
  type LinkScanPage,
  type ScannedLink,
} from '../link-scan.js';
import type { Keyspace } from './keyspace.js';

const TAG = 'm1';

/**
 * One page of the links of `namespace` in a memory keyspace. See
 * `LinkScanMaintenance.scanLinks`.
 * @throws SR_VALIDATION for bad arguments
 */
export function memoryScanLinks(
  keyspace: Keyspace,
  namespace: string,
  options?: LinkScanOptions,
): LinkScanPage {
  const { service, count, cursor } = checkLinkScan(namespace, options);
  let after: string | undefined;
  if (cursor !== null) {
    after = cursorString(decodeCursor(TAG, cursor), 'after');
    if (after === undefined) {
      throw new ValidationError('cursor', 'type', 'is not a cursor returned by scanLinks');
    }
  }
  const prefix = linkKeyPrefix(namespace);
  const keys = keyspace
    .keys()
    .filter((key) => key.startsWith(prefix) && (after === undefined || key > after))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const listed = (key: string): ScannedLink | undefined => {
    const link = parseLinkKey(namespace, key);
    if (link === undefined || (service !== undefined && link.service !== service)) return;
    if (keyspace.type(key) !== 'string') return;
    return scannedLink(link, keyspace.get(key), keyspace.ttl(key));
  };
  const links: ScannedLink[] = [];
  for (let i = 0; i < keys.length; i++) {
    const found = listed(keys[i]!);
    if (found === undefined) continue;
    links.push(found);
    if (links.length === count) {
      // A cursor only when a later key is listed: the last page ends with a null cursor.
      const more = keys.slice(i + 1).some((key) => listed(key) !== undefined);
      return { links, cursor: more ? encodeCursor(TAG, { after: keys[i]! }) : null };
    }
  }
  return { links, cursor: null };
}
