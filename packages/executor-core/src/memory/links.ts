/**
 * The link writes of the memory backend, as the link scripts make them, shared by the
 * contract operations (memory-executor.ts) and placement (placement.ts).
 */
import { linkIndexKey, linkKey } from '../keys.js';
import type { Keyspace } from './keyspace.js';

/**
 * The link key and link index of (ns, uid, svc). Both key types are checked before anything
 * is written, as the scripts check them, so a wrong type fails with no write.
 */
export function checkedLinkKeys(
  keys: Keyspace,
  ns: string,
  uid: string,
  svc: string,
): [string, string] {
  const k1 = linkKey(ns, uid, svc);
  const k2 = linkIndexKey(ns, uid);
  keys.assertStringOrNone(k1);
  keys.assertHashOrNone(k2);
  return [k1, k2];
}

/**
 * Links to `pod`: a permanent link (`persist` -1) has no TTL and an entry in the link index;
 * a temporary one expires after `persist` seconds and has no index entry.
 */
export function writeLink(
  keys: Keyspace,
  k1: string,
  k2: string,
  svc: string,
  pod: string,
  persist: number,
): void {
  keys.set(k1, pod);
  if (persist === -1) {
    keys.persist(k1);
    keys.hset(k2, svc, pod);
  } else {
    keys.expire(k1, persist);
    keys.hdel(k2, svc);
  }
}

/** Deletes the link and its index entry; true when the link existed. */
export function deleteLink(keys: Keyspace, k1: string, k2: string, svc: string): boolean {
  const existed = keys.del(k1);
  keys.hdel(k2, svc);
  return existed;
}
