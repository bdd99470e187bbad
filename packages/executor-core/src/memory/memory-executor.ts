/**
 * The embedded backend: the contract's semantics in-process, TTLs included, with the same
 * key layout as Redis so that its behaviour (key collisions, WRONGTYPE) is Redis' own.
 */
import { BaseExecutor } from '../base-executor.js';
import { ExecutorClosedError } from '../errors.js';
import type {
  ExecutorDescription,
  ExecutorStats,
  HealthStatus,
  TrySetResult,
} from '../executor.js';
import { NO_POD, ZERO_EXECUTOR_STATS } from '../executor.js';
import { linkIndexKey, linkKey, serviceStateKey, workloadKey } from '../keys.js';
import type { NamespaceKeysMaintenance } from '../namespace-keys.js';
import type { LinkScanMaintenance, LinkScanOptions, LinkScanPage } from '../link-scan.js';
import { checkNamespace } from '../validation.js';
import { isAbsentLink, isAbsentWorkload, parsePodId, putOwn, readLink } from '../values.js';
import { Keyspace, systemClock, type Clock } from './keyspace.js';
import { memoryScanLinks } from './link-scan.js';
import { checkedLinkKeys, deleteLink, writeLink } from './links.js';
import { MemoryPlacement } from './placement.js';
import type {
  Allocation,
  Placement,
  PlacementStrategy,
  ReconcileResult,
  ReleaseResult,
  SweepResult,
} from '../placement.js';

export interface MemoryExecutorOptions {
  /** Name in diagnostics and metric labels. Default `memory`. */
  name?: string;
  /** Time source for TTLs; inject one to move time in tests. Default `Date.now`. */
  clock?: Clock;
}

/** The in-memory executor. Create it with `createMemoryExecutor()`. */
export class MemoryExecutor
  extends BaseExecutor
  implements NamespaceKeysMaintenance, LinkScanMaintenance
{
  readonly #keys: Keyspace;
  readonly #placement: MemoryPlacement;

  constructor(options: MemoryExecutorOptions = {}) {
    super(options.name ?? 'memory', 'memory');
    const clock = options.clock ?? systemClock;
    this.#keys = new Keyspace(clock);
    this.#placement = new MemoryPlacement(this.#keys, clock, this.telemetry.placement);
    this.announce();
  }

  /** The raw keyspace, for tests that check the key layout: key -> type. */
  dump(): Record<
    string,
    { type: 'string' | 'hash'; value: string | Record<string, string>; ttl: number }
  > {
    const out: Record<
      string,
      { type: 'string' | 'hash'; value: string | Record<string, string>; ttl: number }
    > = {};
    for (const key of this.#keys.keys()) {
      const type = this.#keys.type(key);
      if (type === 'string')
        putOwn(out, key, { type, value: this.#keys.get(key)!, ttl: this.#keys.ttl(key) });
      if (type === 'hash') {
        putOwn(out, key, {
          type,
          value: Object.fromEntries(this.#keys.hgetall(key)),
          ttl: this.#keys.ttl(key),
        });
      }
    }
    return out;
  }

  describe(): ExecutorDescription {
    return {
      name: this.name,
      backend: 'memory',
      topology: 'embedded',
      scriptTransport: null,
      autoPipelining: null,
      connections: 0,
      nearCache: null,
    };
  }

  stats(): ExecutorStats {
    return { ...ZERO_EXECUTOR_STATS };
  }

  async checkHealth(): Promise<HealthStatus> {
    return this.closed
      ? {
          ok: false,
          backend: 'memory',
          latencyMs: 0,
          scriptsLoaded: false,
          reason: 'executor closed',
        }
      : { ok: true, backend: 'memory', latencyMs: 0, scriptsLoaded: true };
  }

  /**
   * Whether any key of `namespace` exists. Not a contract operation: neither timed nor published.
   * @throws SR_VALIDATION for a bad namespace, SR_EXECUTOR_CLOSED once closed
   */
  async hasNamespaceKeys(namespace: string): Promise<boolean> {
    return this.#namespaceKeys(namespace).length > 0 || this.#placement.hasNamespace(namespace);
  }

  /**
   * Deletes every key of `namespace`; returns how many were deleted. Not a contract
   * operation: neither timed nor published.
   * @throws SR_VALIDATION for a bad namespace, SR_EXECUTOR_CLOSED once closed
   */
  async deleteNamespaceKeys(namespace: string): Promise<number> {
    const keys = this.#namespaceKeys(namespace);
    for (const key of keys) this.#keys.del(key);
    // Placement data counts one per service here (on Redis it is a few keys per service).
    return keys.length + this.#placement.deleteNamespace(namespace);
  }

  /**
   * One page of the links of `namespace`, in key order. Not a contract operation: neither
   * timed nor published.
   * @throws SR_VALIDATION for bad arguments, SR_EXECUTOR_CLOSED once closed
   */
  async scanLinks(namespace: string, options?: LinkScanOptions): Promise<LinkScanPage> {
    if (this.closed) throw new ExecutorClosedError();
    return memoryScanLinks(this.#keys, namespace, options);
  }

  // Every key of the namespace starts with `sf:{<ns>:`; no namespace holds ':', so this
  // prefix never matches another namespace's keys.
  #namespaceKeys(namespace: string): string[] {
    if (this.closed) throw new ExecutorClosedError();
    checkNamespace(namespace);
    const prefix = `sf:{${namespace}:`;
    return this.#keys.keys().filter((key) => key.startsWith(prefix));
  }

  protected async releaseResources(): Promise<void> {}

  protected async doSetServiceState(
    ns: string,
    svc: string,
    podId: number,
    state: string,
  ): Promise<void> {
    this.#keys.hset(serviceStateKey(ns, svc), String(podId), state);
  }

  protected async doGetServiceState(ns: string, svc: string): Promise<Record<number, string>> {
    const out: Record<number, string> = {};
    for (const [field, value] of this.#keys.hgetall(serviceStateKey(ns, svc))) {
      const pod = parsePodId(field);
      if (pod !== undefined) out[pod] = value;
    }
    return out;
  }

  protected async doSetWorkloadState(ns: string, svc: string, state: string): Promise<void> {
    this.#keys.set(workloadKey(ns, svc), state);
  }

  protected async doGetWorkloadState(ns: string, svc: string): Promise<string | null> {
    const value = this.#keys.get(workloadKey(ns, svc));
    return isAbsentWorkload(value) ? null : value;
  }

  protected async doGetWorkloadStateBatch(
    ns: string,
    svcs: readonly string[],
  ): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const svc of svcs) {
      const value = this.#mget(workloadKey(ns, svc));
      if (!isAbsentWorkload(value)) putOwn(out, svc, value);
    }
    return out;
  }

  // MGET answers nil for a key of another type instead of failing.
  #mget(key: string): string | null {
    return this.#keys.type(key) === 'string' ? this.#keys.get(key) : null;
  }

  #linkKeys(ns: string, uid: string, svc: string): [string, string] {
    return checkedLinkKeys(this.#keys, ns, uid, svc);
  }

  protected async doSetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<number> {
    const [k1, k2] = this.#linkKeys(ns, uid, svc);
    const previous = this.#keys.get(k1);
    writeLink(this.#keys, k1, k2, svc, String(podId), persist);
    return previous === null ? NO_POD : (parsePodId(previous) ?? NO_POD);
  }

  protected async doTrySetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<TrySetResult> {
    const [k1, k2] = this.#linkKeys(ns, uid, svc);
    const current = this.#keys.get(k1);
    const pod = String(podId);
    if (current !== null && current !== pod && this.#keys.ttl(k1) === -1) {
      return { linked: false, current: parsePodId(current) ?? NO_POD, previous: NO_POD };
    }
    writeLink(this.#keys, k1, k2, svc, pod, persist);
    return {
      linked: true,
      current: podId,
      previous: current === null ? NO_POD : (parsePodId(current) ?? NO_POD),
    };
  }

  protected async doSetLinkedPodIfAbsent(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<number> {
    const [k1, k2] = this.#linkKeys(ns, uid, svc);
    const existing = this.#keys.get(k1);
    if (existing !== null) return parsePodId(existing) ?? NO_POD;
    writeLink(this.#keys, k1, k2, svc, String(podId), persist);
    return podId;
  }

  protected async doGetLinkedPod(ns: string, uid: string, svc: string): Promise<number> {
    const key = linkKey(ns, uid, svc);
    return readLink(key, this.#keys.get(key));
  }

  protected async doGetLinkedPodIfPersist(ns: string, uid: string, svc: string): Promise<number> {
    const key = linkKey(ns, uid, svc);
    const value = this.#keys.get(key);
    if (value === null || this.#keys.ttl(key) !== -1) return NO_POD;
    return readLink(key, value);
  }

  protected async doBatchGetLinkedPod(
    ns: string,
    uids: readonly string[],
    svc: string,
  ): Promise<Record<number, string[]>> {
    const out: Record<number, string[]> = {};
    for (const uid of uids) {
      const value = this.#mget(linkKey(ns, uid, svc));
      if (isAbsentLink(value)) continue;
      const pod = parsePodId(value);
      if (pod === undefined) continue;
      (out[pod] ??= []).push(uid);
    }
    return out;
  }

  protected async doRemoveLinkedPod(ns: string, uid: string, svc: string): Promise<boolean> {
    const [k1, k2] = this.#linkKeys(ns, uid, svc);
    return deleteLink(this.#keys, k1, k2, svc);
  }

  protected async doRemoveLinkedPodWithId(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
  ): Promise<boolean> {
    const [k1, k2] = this.#linkKeys(ns, uid, svc);
    if (this.#keys.get(k1) !== String(podId)) return false;
    return deleteLink(this.#keys, k1, k2, svc);
  }

  protected async doRegisterPod(
    ns: string,
    svc: string,
    podId: number,
    capacity: number,
    ttlSeconds: number,
  ): Promise<void> {
    this.#placement.register(ns, svc, podId, capacity, ttlSeconds);
  }

  protected async doSetDraining(
    ns: string,
    svc: string,
    podId: number,
    draining: boolean,
  ): Promise<void> {
    this.#placement.setDraining(ns, svc, podId, draining);
  }

  protected async doAllocate(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
  ): Promise<Allocation> {
    return this.#placement.allocate(ns, uid, svc, persist, strategy);
  }

  protected async doRelease(ns: string, uid: string, svc: string): Promise<ReleaseResult> {
    return this.#placement.release(ns, uid, svc);
  }

  protected async doPlacement(ns: string, svc: string): Promise<Placement> {
    return this.#placement.placement(ns, svc);
  }

  protected async doSweepDeadPods(ns: string, svc: string): Promise<SweepResult> {
    return this.#placement.sweepDeadPods(ns, svc);
  }

  protected async doReconcilePlacement(
    ns: string,
    svc: string,
    _batch: number,
    full: boolean,
  ): Promise<ReconcileResult> {
    return this.#placement.reconcile(ns, svc, full);
  }

  protected async doGetLinkService(ns: string, uid: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [svc, value] of this.#keys.hgetall(linkIndexKey(ns, uid))) {
      const pod = parsePodId(value);
      if (pod !== undefined) putOwn(out, svc, pod);
    }
    return out;
  }
}

/**
 * An executor that keeps everything in this process: no Redis needed. The default backend
 * for trying the toolkit, and for tests (inject a clock to move time).
 * @example
 * const executor = createMemoryExecutor();
 * await executor.setLinkedPod('default', 'user123', 'room', { podId: 3, persistSeconds: -1 }); // -1 (no previous pod)
 */
export function createMemoryExecutor(options: MemoryExecutorOptions = {}): MemoryExecutor {
  return new MemoryExecutor(options);
}
