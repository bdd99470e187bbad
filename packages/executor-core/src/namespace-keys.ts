/**
 * Maintenance of a whole namespace, outside the contract's operations: whether it holds any
 * key, and deleting every key of it. The benchmark workload uses it to leave nothing behind;
 * the Java and Go executors have no such operation, so it is an interface of its own.
 */
import type { StatefulExecutor } from './executor.js';

/**
 * An executor that can list and delete the keys of one namespace (`sf:{<ns>:*`), and
 * never touches another namespace's keys. Both built-in executors have it.
 */
export interface NamespaceKeysMaintenance {
  /**
   * Whether any key of `namespace` exists. On Redis a SCAN of each master that stops at the
   * first match (it never uses KEYS, which blocks Redis).
   * @throws SR_VALIDATION for a bad namespace
   */
  hasNamespaceKeys(namespace: string): Promise<boolean>;
  /**
   * Deletes every key of `namespace` and returns how many were deleted. On Redis: SCAN of
   * each master by the namespace's pattern, UNLINK in batches (one command per batch on a
   * standalone Redis, one pipeline of single-key UNLINKs per batch on a cluster node).
   * @throws SR_VALIDATION for a bad namespace
   */
  deleteNamespaceKeys(namespace: string): Promise<number>;
}

/** Whether `executor` can list and delete a namespace's keys (`NamespaceKeysMaintenance`). */
export function hasNamespaceMaintenance(
  executor: StatefulExecutor,
): executor is StatefulExecutor & NamespaceKeysMaintenance {
  const candidate = executor as Partial<NamespaceKeysMaintenance>;
  return (
    typeof candidate.hasNamespaceKeys === 'function' &&
    typeof candidate.deleteNamespaceKeys === 'function'
  );
}
