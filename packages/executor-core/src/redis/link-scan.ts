/**
 * `scanLinks` on Redis: SCAN of each master by the namespace's link pattern (never KEYS,
 * which blocks Redis), then GET and TTL of the page's links in one pipeline. Every command
 * is small: a SCAN looks at about `SCAN_COUNT` keys, a pipeline carries one page's keys.
 * The cursor's layout is described in ../link-scan.ts.
 */
import type { Redis } from 'ioredis';
import { ConnectionError, ValidationError } from '../errors.js';
import { linkKeyPattern } from '../keys.js';
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
import { unbounded, type Bound } from './deadline.js';
import { isCluster, type RedisClient } from './options.js';
import { replyCode, toExecutorError } from './redis-errors.js';

/** SCAN's COUNT hint: keys looked at per SCAN call. */
const SCAN_COUNT = 500;
/** Fewest keys read per pipeline once a page is being consumed. */
const MIN_READ = 32;
const TAG = 'r1';
const SCAN_CURSOR = /^[0-9]{1,20}$/;

// Replies that leave one key out of the page instead of failing it: a key of another type
// (no contract writer makes one), or a key that moved to another master meanwhile (it is
// found there, or not, like any key written during a SCAN of a resharding cluster).
const SKIPPED_REPLIES = new Set(['WRONGTYPE', 'MOVED', 'ASK']);

interface Master {
  /** `host:port` on a Cluster, null on a standalone Redis. */
  id: string | null;
  node: Redis;
}

function masters(client: RedisClient): Master[] {
  if (!isCluster(client)) return [{ id: null, node: client }];
  return client
    .nodes('master')
    .map((node) => ({ id: `${node.options.host}:${node.options.port}`, node }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

interface Position {
  master: number;
  scan: string;
  after: string | undefined;
}

function startOf(list: readonly Master[], cursor: string | null): Position {
  if (cursor === null) return { master: 0, scan: '0', after: undefined };
  const state = decodeCursor(TAG, cursor);
  const scan = cursorString(state, 'scan', SCAN_CURSOR);
  if (scan === undefined) {
    throw new ValidationError('cursor', 'type', 'is not a cursor returned by scanLinks');
  }
  const id = cursorString(state, 'node') ?? null;
  const after = cursorString(state, 'after');
  if ((id === null) !== (list[0]!.id === null)) {
    throw new ValidationError(
      'cursor',
      'type',
      'was returned by a scan of another kind of Redis (standalone or Cluster)',
    );
  }
  const master = list.findIndex((candidate) => candidate.id === id);
  if (master === -1) {
    throw new ValidationError(
      'cursor',
      'range',
      'names a Redis master that is no longer in the cluster (failover or resharding): start the scan again without a cursor',
    );
  }
  return { master, scan, after };
}

/** GET and TTL of `keys` in one pipeline: [value, ttl] each, [null, -2] for a skipped key. */
async function readLinks(
  node: Redis,
  keys: readonly string[],
  bound: Bound,
): Promise<[string | null, number][]> {
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.get(key).ttl(key);
  const replies = (await bound(pipeline.exec())) ?? [];
  const out: [string | null, number][] = [];
  for (let i = 0; i < keys.length; i++) {
    const [valueError, value] = replies[2 * i] ?? [null, null];
    const [ttlError, ttl] = replies[2 * i + 1] ?? [null, -2];
    const error = valueError ?? ttlError;
    if (error) {
      if (SKIPPED_REPLIES.has(replyCode(error))) {
        out.push([null, -2]);
        continue;
      }
      throw error;
    }
    out.push([value as string | null, Number(ttl)]);
  }
  return out;
}

/**
 * One page of the links of `namespace` on a standalone Redis or a Cluster (each master in
 * turn), each command bounded by `bound`. See `LinkScanMaintenance.scanLinks`.
 * @throws SR_VALIDATION for bad arguments; typed executor errors for Redis failures
 */
export async function redisScanLinks(
  client: RedisClient,
  namespace: string,
  options?: LinkScanOptions,
  bound: Bound = unbounded,
): Promise<LinkScanPage> {
  const { service, count, cursor } = checkLinkScan(namespace, options);
  const pattern = linkKeyPattern(namespace, service);
  const list = masters(client);
  if (list.length === 0) {
    throw new ConnectionError('Redis is unreachable: the Cluster client knows no master yet');
  }
  let { master, scan, after } = startOf(list, cursor);
  const links: ScannedLink[] = [];
  const seen = new Set<string>();
  try {
    for (;;) {
      const { id, node } = list[master]!;
      const [next, keys] = await bound(node.scan(scan, 'MATCH', pattern, 'COUNT', SCAN_COUNT));
      // The page in key order, so that a page cut short resumes after its last key.
      const page: { key: string; link: { uid: string; service: string } }[] = [];
      for (const key of keys) {
        if (seen.has(key) || (after !== undefined && key <= after)) continue;
        const link = parseLinkKey(namespace, key);
        if (link === undefined || (service !== undefined && link.service !== service)) continue;
        seen.add(key);
        page.push({ key, link });
      }
      page.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      after = undefined;
      let consumed = 0;
      while (consumed < page.length && links.length < count) {
        const take = Math.min(page.length - consumed, Math.max(count - links.length, MIN_READ));
        const batch = page.slice(consumed, consumed + take);
        const replies = await readLinks(
          node,
          batch.map((entry) => entry.key),
          bound,
        );
        for (let i = 0; i < batch.length && links.length < count; i++) {
          const [value, ttl] = replies[i]!;
          const found = scannedLink(batch[i]!.link, value, ttl);
          if (found) links.push(found);
          consumed += 1;
        }
      }
      if (consumed < page.length) {
        // Full with keys of this page left: the next call scans this page again.
        const last = page[consumed - 1]!.key;
        return { links, cursor: encodeCursor(TAG, { node: id, scan, after: last }) };
      }
      if (next !== '0') scan = next;
      else if (master + 1 < list.length) {
        master += 1;
        scan = '0';
      } else return { links, cursor: null };
      if (links.length >= count) {
        return { links, cursor: encodeCursor(TAG, { node: list[master]!.id, scan }) };
      }
    }
  } catch (error) {
    throw toExecutorError(error);
  }
}
