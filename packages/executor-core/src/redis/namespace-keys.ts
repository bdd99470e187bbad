/**
 * A namespace's keys on Redis, found with SCAN on every master (never KEYS, which blocks
 * Redis) by the namespace's own pattern, so another namespace's keys are never matched.
 */
import type { Redis } from 'ioredis';
import { namespaceKeyPattern } from '../keys.js';
import { checkNamespace } from '../validation.js';
import { unbounded, type Bound } from './deadline.js';
import { isCluster, type RedisClient } from './options.js';
import { toExecutorError } from './redis-errors.js';

/** SCAN's COUNT hint: keys looked at per round trip, and so the largest UNLINK batch. */
const SCAN_COUNT = 1000;

function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

async function* batches(node: Redis, pattern: string, bound: Bound): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await bound(node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT));
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/**
 * Whether any `sf:{<namespace>:...}` key exists on any master; stops at the first. Each
 * command is bounded by `bound` (the executor's command deadline).
 * @throws SR_VALIDATION for a bad namespace; typed executor errors for Redis failures
 */
export async function redisNamespaceHasKeys(
  client: RedisClient,
  namespace: string,
  bound: Bound = unbounded,
): Promise<boolean> {
  checkNamespace(namespace);
  const pattern = namespaceKeyPattern(namespace);
  try {
    for (const node of masters(client)) {
      // The generator yields only non-empty pages: its first page is a key.
      if ((await batches(node, pattern, bound).next()).done !== true) return true;
    }
    return false;
  } catch (error) {
    throw toExecutorError(error);
  }
}

/**
 * Deletes every `sf:{<namespace>:...}` key on every master; returns how many were deleted.
 * A cluster node gets single-key UNLINKs in one pipeline per batch: the keys of one SCAN
 * page live in many slots, and a multi-key UNLINK across slots is refused (CROSSSLOT). Each
 * command is bounded by `bound`.
 * @throws SR_VALIDATION for a bad namespace; typed executor errors for Redis failures
 */
export async function redisDeleteNamespaceKeys(
  client: RedisClient,
  namespace: string,
  bound: Bound = unbounded,
): Promise<number> {
  checkNamespace(namespace);
  const pattern = namespaceKeyPattern(namespace);
  const cluster = isCluster(client);
  let deleted = 0;
  try {
    for (const node of masters(client)) {
      for await (const keys of batches(node, pattern, bound)) {
        if (!cluster) {
          deleted += await bound(node.unlink(...keys));
          continue;
        }
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        for (const [error, count] of (await bound(pipeline.exec())) ?? []) {
          if (error) throw error;
          deleted += Number(count);
        }
      }
    }
    return deleted;
  } catch (error) {
    throw toExecutorError(error);
  }
}
