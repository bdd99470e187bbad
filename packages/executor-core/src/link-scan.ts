/**
 * Listing a namespace's links without knowing the uids: a maintenance method outside the
 * contract's operations (never timed, never published), for operators who need to see what
 * is linked. The listing comes in pages, each resumed with the cursor of the one before.
 *
 * The cursor is opaque to callers; what it holds is documented here because it is part of
 * how the scan behaves. It is `r1.` (Redis) or `m1.` (memory) followed by the base64url form
 * of a JSON object:
 * - Redis `{ node, scan, after? }`: `node` is the `host:port` of the master being scanned on
 *   a Cluster (masters are visited in the order of their `host:port`; `null` on a standalone
 *   Redis), `scan` that master's SCAN cursor at the start of the current SCAN page, and
 *   `after` the last link key consumed from that page when a page was cut short by `count`
 *   (the page is then scanned again and its keys up to `after`, in key order, are skipped).
 * - memory `{ after }`: the last link key returned (the memory backend lists in key order).
 */
import { ValidationError } from './errors.js';
import type { StatefulExecutor } from './executor.js';
import { linkKeyPrefix } from './keys.js';
import { checkId, checkNamespace, checkOptions } from './validation.js';
import { parsePodId } from './values.js';

/** The default number of links of one page of `scanLinks`. */
export const DEFAULT_LINK_SCAN_COUNT = 100;
/** The largest `count` of one page of `scanLinks`. */
export const MAX_LINK_SCAN_COUNT = 10_000;
const SCAN_OPTIONS = ['service', 'count', 'cursor'] as const;
/** Longest cursor accepted (a cursor holds at most one key and one master address). */
const MAX_CURSOR_LENGTH = 4096;

/** The options of `scanLinks`. */
export interface LinkScanOptions {
  /** Only the links of this service. Default: every service. */
  service?: string;
  /** Most links in the page, 1..10 000. Default 100. */
  count?: number;
  /** The `cursor` of the previous page; absent (or null) to start a scan. */
  cursor?: string | null;
}

/** One link found by `scanLinks`. */
export interface ScannedLink {
  uid: string;
  service: string;
  podId: number;
  /** Seconds left, as Redis' TTL rounds them (0: under half a second); -1 for a permanent link. */
  ttlSeconds: number;
}

/** One page of `scanLinks`. */
export interface LinkScanPage {
  links: ScannedLink[];
  /** Pass it back as `cursor` for the next page; null when the scan is complete. */
  cursor: string | null;
}

/**
 * An executor that can list a namespace's links page by page (SCAN-based on Redis). Both
 * built-in executors have it; test with `hasLinkScan(executor)`.
 */
export interface LinkScanMaintenance {
  /**
   * One page of the links of `namespace` (`sf:{<ns>:lk:<uid>}<svc>` keys), at most `count`
   * of them, in no particular order. Call again with the returned `cursor` until it is null.
   * Like Redis' SCAN: a link that exists for the whole scan is returned exactly once, a link
   * written or removed during the scan may or may not be, and (on Redis) one that moves
   * while the keyspace changes may come twice. Link values that are not pod ids (decimal
   * integers, as `getLinkedPod` requires) are left out of the listing, as are keys that expire
   * between the SCAN and the read.
   * @example
   * let cursor = null;
   * do {
   *   const page = await executor.scanLinks('default', { service: 'room', cursor });
   *   for (const link of page.links) console.log(link.uid, link.podId, link.ttlSeconds);
   *   cursor = page.cursor;
   * } while (cursor !== null);
   * @throws SR_VALIDATION for a bad namespace, service, count or cursor (field `cursor` also
   * for a Cluster cursor whose master is gone); SR_EXECUTOR_CLOSED once closed
   */
  scanLinks(namespace: string, options?: LinkScanOptions): Promise<LinkScanPage>;
}

/** Whether `executor` can list a namespace's links (`LinkScanMaintenance`). */
export function hasLinkScan(
  executor: StatefulExecutor,
): executor is StatefulExecutor & LinkScanMaintenance {
  return typeof (executor as Partial<LinkScanMaintenance>).scanLinks === 'function';
}

/** The checked options of one call. */
export interface CheckedLinkScan {
  service: string | undefined;
  count: number;
  cursor: string | null;
}

/**
 * Checks the arguments of `scanLinks` before any I/O. Options are a plain object with no
 * other keys (a misspelt one is refused, as on the link writes).
 * @throws SR_VALIDATION naming the field
 */
export function checkLinkScan(namespace: unknown, options: unknown): CheckedLinkScan {
  checkNamespace(namespace);
  if (options === undefined) options = {};
  checkOptions(options, SCAN_OPTIONS);
  const { service, count, cursor } = options;
  if (service !== undefined) checkId(service, 'service');
  let size = DEFAULT_LINK_SCAN_COUNT;
  if (count !== undefined) {
    if (typeof count !== 'number' || !Number.isSafeInteger(count)) {
      throw new ValidationError('count', 'integer', 'must be an integer');
    }
    if (count < 1 || count > MAX_LINK_SCAN_COUNT) {
      throw new ValidationError('count', 'range', `must be from 1 to ${MAX_LINK_SCAN_COUNT}`);
    }
    size = count;
  }
  if (cursor !== undefined && cursor !== null) {
    if (typeof cursor !== 'string') throw new ValidationError('cursor', 'type', 'must be a string');
    if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) {
      throw new ValidationError('cursor', 'range', 'is not a cursor returned by scanLinks');
    }
  }
  return {
    service: service as string | undefined,
    count: size,
    cursor: (cursor as string | null | undefined) ?? null,
  };
}

/**
 * The uid and service of a link key of `namespace`, or undefined for any other key of the
 * `lk:` family: a link index (nothing after the brace), or a key no contract writer makes
 * (a brace in the service, an empty uid). A SCAN pattern can match such keys because `*`
 * matches braces too.
 */
export function parseLinkKey(
  namespace: string,
  key: string,
): { uid: string; service: string } | undefined {
  const prefix = linkKeyPrefix(namespace);
  if (!key.startsWith(prefix)) return undefined;
  const close = key.indexOf('}', prefix.length);
  if (close <= prefix.length || close === key.length - 1) return undefined;
  const service = key.slice(close + 1);
  if (service.includes('{') || service.includes('}')) return undefined;
  return { uid: key.slice(prefix.length, close), service };
}

/**
 * A listed link from a key's value and TTL, or undefined when it is left out: the key is
 * gone (null value, TTL -2) or its value is not a pod id.
 */
export function scannedLink(
  link: { uid: string; service: string },
  value: string | null,
  ttl: number,
): ScannedLink | undefined {
  if (value === null || ttl === -2) return undefined;
  const podId = parsePodId(value);
  if (podId === undefined) return undefined;
  return { uid: link.uid, service: link.service, podId, ttlSeconds: ttl < 0 ? -1 : ttl };
}

// Cursor encoding: a tag, then base64url JSON (safe in a shell and a URL as it is).

/** Encodes a cursor of the backend `tag` (`r1`, `m1`). */
export function encodeCursor(tag: string, state: Record<string, unknown>): string {
  return `${tag}.${Buffer.from(JSON.stringify(state), 'utf8').toString('base64url')}`;
}

/**
 * Decodes a cursor of the backend `tag`: its JSON object.
 * @throws SR_VALIDATION (field `cursor`) for anything else
 */
export function decodeCursor(tag: string, cursor: string): Record<string, unknown> {
  const bad = (): ValidationError =>
    new ValidationError('cursor', 'type', 'is not a cursor returned by scanLinks on this backend');
  if (!cursor.startsWith(`${tag}.`)) throw bad();
  const body = cursor.slice(tag.length + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw bad();
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw bad();
  return state as Record<string, unknown>;
}

/** An optional string field of a decoded cursor. @throws SR_VALIDATION */
export function cursorString(
  state: Record<string, unknown>,
  field: string,
  pattern?: RegExp,
): string | undefined {
  const value = state[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || (pattern !== undefined && !pattern.test(value))) {
    throw new ValidationError('cursor', 'type', 'is not a cursor returned by scanLinks');
  }
  return value;
}
