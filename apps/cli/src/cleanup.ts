/**
 * Deletes every key of a namespace: what `bench` wrote under its own namespace. Keys are
 * found with SCAN on every master (never KEYS, which blocks Redis) and unlinked one by one
 * on the node that owns them, so it works on a cluster where keys of different uids live
 * in different slots.
 */
import { isCluster, namespaceKeyPattern, type RedisClient } from '@stateful-route/executor-core';
import type { Redis } from 'ioredis';

/** Deletes every `sf:{<namespace>:...}` key; returns how many were deleted. */
export async function deleteNamespace(client: RedisClient, namespace: string): Promise<number> {
  const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
  const pattern = namespaceKeyPattern(namespace);
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        const replies = (await pipeline.exec()) ?? [];
        for (const [error, count] of replies) if (!error) deleted += Number(count);
      }
    } while (cursor !== '0');
  }
  return deleted;
}
