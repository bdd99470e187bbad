/**
 * What the CLI's workloads leave behind: nothing. `bench` runs the analyzer's workload on a
 * fresh namespace of its own (the workload deletes its keys when it ends); `doctor` and
 * `tune` delete theirs with `deleteNamespace` when the command ends. Finding and deleting a
 * namespace's keys (SCAN on every master, UNLINK in batches) is executor-core's, in one place.
 */
import { randomBytes } from 'node:crypto';
import { redisDeleteNamespaceKeys, type RedisClient } from '@stateful-route/executor-core';

/** The prefix of every namespace the CLI's own workloads write under. */
export const BENCH_NAMESPACE_PREFIX = 'stateful-route-bench-';

/** A fresh namespace for one workload: `stateful-route-bench-<8 hex digits>`. */
export function newBenchNamespace(): string {
  return `${BENCH_NAMESPACE_PREFIX}${randomBytes(4).toString('hex')}`;
}

/** Deletes every `sf:{<namespace>:...}` key on every master; returns how many were deleted. */
export async function deleteNamespace(client: RedisClient, namespace: string): Promise<number> {
  return redisDeleteNamespaceKeys(client, namespace);
}
