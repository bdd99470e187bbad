/**
 * What every backend shares: input validation before any I/O, the closed check, and the
 * operation tracing channel. Backends implement the `do*` methods with validated arguments.
 */
import { performance } from 'node:perf_hooks';
import {
  closeChannel,
  createChannel,
  operationChannel,
  OperationMessage,
  traceOperation,
  type ExecutorLifecycleMessage,
} from './diagnostics.js';
import { ExecutorClosedError } from './errors.js';
import type {
  BackendKind,
  ExecutorDescription,
  ExecutorStats,
  HealthStatus,
  LinkWriteOptions,
  OperationName,
  RemoveLinkOptions,
  RemoveLinkWithIdOptions,
  StatefulExecutor,
  TrySetResult,
} from './executor.js';
import { OPERATION_CHECKS as CHECKS } from './operation-checks.js';
import type {
  AllocateOptions,
  Allocation,
  Placement,
  PlacementBatchOptions,
  PlacementStrategy,
  ReconcileOptions,
  ReconcileResult,
  RegisterPodOptions,
  ReleaseResult,
  SweepResult,
} from './placement.js';
import { DEFAULT_PLACEMENT_BATCH } from './placement.js';
import {
  ExecutorTelemetry,
  registerTelemetry,
  unregisterTelemetry,
  type CacheHitSink,
  type OperationRecord,
} from './telemetry/telemetry.js';

export abstract class BaseExecutor implements StatefulExecutor {
  #closed = false;
  /** What this executor records of its calls while a consumer is attached (metrics, analyzer). */
  readonly telemetry: ExecutorTelemetry;

  protected constructor(
    readonly name: string,
    readonly backend: BackendKind,
  ) {
    this.telemetry = new ExecutorTelemetry(name);
  }

  /** Publishes the create event; backends call it at the end of their constructor. */
  protected announce(): void {
    registerTelemetry(this.telemetry);
    if (createChannel.hasSubscribers) createChannel.publish(this.lifecycleMessage());
  }

  private lifecycleMessage(): ExecutorLifecycleMessage {
    return {
      executor: this.name,
      description: this.describe(),
      stats: () => this.stats(),
      telemetry: this.telemetry,
    };
  }

  protected get closed(): boolean {
    return this.#closed;
  }

  protected assertOpen(): void {
    if (this.#closed) throw new ExecutorClosedError();
  }

  // With no consumer and no channel subscriber the only cost is two checks. A consumer of the
  // telemetry (metrics, analyzer) makes the call recorded: one clock pair, a few writes into
  // the operation's preallocated record. A channel subscriber makes it traced (the message
  // is built and published), and recorded from the same clock pair.
  // The sink (the message or the record) is handed to the call so that a near-cache hit can
  // mark itself. `call` validates synchronously and returns the backend's promise: not an
  // async function, because an async function that returns a promise costs extra microtask
  // turns per call (measured: a visible share of the executor's overhead). A validation error
  // thrown by `call` becomes a rejection here, so every operation still only ever rejects.
  private run<T>(
    operation: OperationName,
    items: number,
    call: (hit: CacheHitSink | undefined) => Promise<T>,
  ): Promise<T> {
    const telemetry = this.telemetry;
    if (!operationChannel.hasSubscribers) {
      if (telemetry.recording) return this.recorded(telemetry.record(operation), call);
      try {
        return call(undefined);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const message = new OperationMessage(operation, this.name, this.backend, items);
    return traceOperation(message, () => call(message), telemetry, telemetry.record(operation));
  }

  // One promise reaction observes the end of the call: `.then` on the backend's promise, not
  // an async wrapper (an async function that awaits adds a second turn before the caller
  // resumes: measured in situ at about 200 ns of CPU per call on Redis, as much as the clock
  // pair, metrics bench variants B, F and G).
  private recorded<T>(
    record: OperationRecord,
    call: (hit: CacheHitSink | undefined) => Promise<T>,
  ): Promise<T> {
    const telemetry = this.telemetry;
    record.inFlight += 1;
    const started = performance.now();
    let pending: Promise<T>;
    try {
      pending = call(record);
    } catch (error) {
      telemetry.settle(record, performance.now() - started, true, error);
      return Promise.reject(error);
    }
    return pending.then(
      (value) => {
        telemetry.settle(record, performance.now() - started, false, undefined);
        return value;
      },
      (error: unknown) => {
        telemetry.settle(record, performance.now() - started, true, error);
        throw error;
      },
    );
  }

  setServiceState(namespace: string, service: string, podId: number, state: string): Promise<void> {
    return this.run('setServiceState', 1, () => {
      this.assertOpen();
      CHECKS.setServiceState(namespace, service, podId, state);
      return this.doSetServiceState(namespace, service, podId, state);
    });
  }

  getServiceState(namespace: string, service: string): Promise<Record<number, string>> {
    return this.run('getServiceState', 1, (hit) => {
      this.assertOpen();
      CHECKS.getServiceState(namespace, service);
      return this.doGetServiceState(namespace, service, hit);
    });
  }

  setWorkloadState(namespace: string, service: string, state: string): Promise<void> {
    return this.run('setWorkloadState', 1, () => {
      this.assertOpen();
      CHECKS.setWorkloadState(namespace, service, state);
      return this.doSetWorkloadState(namespace, service, state);
    });
  }

  getWorkloadState(namespace: string, service: string): Promise<string | null> {
    return this.run('getWorkloadState', 1, (hit) => {
      this.assertOpen();
      CHECKS.getWorkloadState(namespace, service);
      return this.doGetWorkloadState(namespace, service, hit);
    });
  }

  getWorkloadStateBatch(
    namespace: string,
    services: readonly string[],
  ): Promise<Record<string, string>> {
    return this.run('getWorkloadStateBatch', Array.isArray(services) ? services.length : 0, () => {
      this.assertOpen();
      CHECKS.getWorkloadStateBatch(namespace, services);
      if (services.length === 0) return Promise.resolve({});
      return this.doGetWorkloadStateBatch(namespace, services);
    });
  }

  setLinkedPod(
    namespace: string,
    uid: string,
    service: string,
    options: LinkWriteOptions,
  ): Promise<number> {
    return this.run('setLinkedPod', 1, () => {
      this.assertOpen();
      CHECKS.setLinkedPod(namespace, uid, service, options);
      return this.doSetLinkedPod(namespace, uid, service, options.podId, options.persistSeconds);
    });
  }

  trySetLinkedPod(
    namespace: string,
    uid: string,
    service: string,
    options: LinkWriteOptions,
  ): Promise<TrySetResult> {
    return this.run('trySetLinkedPod', 1, () => {
      this.assertOpen();
      CHECKS.trySetLinkedPod(namespace, uid, service, options);
      return this.doTrySetLinkedPod(namespace, uid, service, options.podId, options.persistSeconds);
    });
  }

  setLinkedPodIfAbsent(
    namespace: string,
    uid: string,
    service: string,
    options: LinkWriteOptions,
  ): Promise<number> {
    return this.run('setLinkedPodIfAbsent', 1, (hit) => {
      this.assertOpen();
      CHECKS.setLinkedPodIfAbsent(namespace, uid, service, options);
      return this.doSetLinkedPodIfAbsent(
        namespace,
        uid,
        service,
        options.podId,
        options.persistSeconds,
        hit,
      );
    });
  }

  getLinkedPod(namespace: string, uid: string, service: string): Promise<number> {
    return this.run('getLinkedPod', 1, (hit) => {
      this.assertOpen();
      CHECKS.getLinkedPod(namespace, uid, service);
      return this.doGetLinkedPod(namespace, uid, service, hit);
    });
  }

  getLinkedPodIfPersist(namespace: string, uid: string, service: string): Promise<number> {
    return this.run('getLinkedPodIfPersist', 1, (hit) => {
      this.assertOpen();
      CHECKS.getLinkedPodIfPersist(namespace, uid, service);
      return this.doGetLinkedPodIfPersist(namespace, uid, service, hit);
    });
  }

  batchGetLinkedPod(
    namespace: string,
    uids: readonly string[],
    service: string,
  ): Promise<Record<number, string[]>> {
    return this.run('batchGetLinkedPod', Array.isArray(uids) ? uids.length : 0, () => {
      this.assertOpen();
      CHECKS.batchGetLinkedPod(namespace, uids, service);
      if (uids.length === 0) return Promise.resolve({});
      return this.doBatchGetLinkedPod(namespace, uids, service);
    });
  }

  removeLinkedPod(
    namespace: string,
    uid: string,
    service: string,
    options?: RemoveLinkOptions,
  ): Promise<boolean> {
    return this.run('removeLinkedPod', 1, () => {
      this.assertOpen();
      CHECKS.removeLinkedPod(namespace, uid, service, options);
      return this.doRemoveLinkedPod(namespace, uid, service);
    });
  }

  removeLinkedPodWithId(
    namespace: string,
    uid: string,
    service: string,
    options: RemoveLinkWithIdOptions,
  ): Promise<boolean> {
    return this.run('removeLinkedPodWithId', 1, () => {
      this.assertOpen();
      CHECKS.removeLinkedPodWithId(namespace, uid, service, options);
      return this.doRemoveLinkedPodWithId(namespace, uid, service, options.podId);
    });
  }

  getLinkService(namespace: string, uid: string): Promise<Record<string, number>> {
    return this.run('getLinkService', 1, () => {
      this.assertOpen();
      CHECKS.getLinkService(namespace, uid);
      return this.doGetLinkService(namespace, uid);
    });
  }

  registerPod(
    namespace: string,
    service: string,
    podId: number,
    options: RegisterPodOptions,
  ): Promise<void> {
    return this.run('registerPod', 1, () => {
      this.assertOpen();
      CHECKS.registerPod(namespace, service, podId, options);
      return this.doRegisterPod(namespace, service, podId, options.capacity, options.ttlSeconds);
    });
  }

  drainPod(namespace: string, service: string, podId: number): Promise<void> {
    return this.run('drainPod', 1, () => {
      this.assertOpen();
      CHECKS.drainPod(namespace, service, podId);
      return this.doSetDraining(namespace, service, podId, true);
    });
  }

  undrainPod(namespace: string, service: string, podId: number): Promise<void> {
    return this.run('undrainPod', 1, () => {
      this.assertOpen();
      CHECKS.undrainPod(namespace, service, podId);
      return this.doSetDraining(namespace, service, podId, false);
    });
  }

  allocate(
    namespace: string,
    uid: string,
    service: string,
    options: AllocateOptions,
  ): Promise<Allocation> {
    return this.run('allocate', 1, () => {
      this.assertOpen();
      CHECKS.allocate(namespace, uid, service, options);
      return this.doAllocate(
        namespace,
        uid,
        service,
        options.persistSeconds,
        options.strategy ?? 'least-loaded',
      );
    });
  }

  release(namespace: string, uid: string, service: string): Promise<ReleaseResult> {
    return this.run('release', 1, () => {
      this.assertOpen();
      CHECKS.release(namespace, uid, service);
      return this.doRelease(namespace, uid, service);
    });
  }

  placement(namespace: string, service: string): Promise<Placement> {
    return this.run('placement', 1, () => {
      this.assertOpen();
      CHECKS.placement(namespace, service);
      return this.doPlacement(namespace, service);
    });
  }

  sweepDeadPods(
    namespace: string,
    service: string,
    options?: PlacementBatchOptions,
  ): Promise<SweepResult> {
    return this.run('sweepDeadPods', 1, () => {
      this.assertOpen();
      CHECKS.sweepDeadPods(namespace, service, options);
      return this.doSweepDeadPods(namespace, service, options?.batch ?? DEFAULT_PLACEMENT_BATCH);
    });
  }

  reconcilePlacement(
    namespace: string,
    service: string,
    options?: ReconcileOptions,
  ): Promise<ReconcileResult> {
    return this.run('reconcilePlacement', 1, () => {
      this.assertOpen();
      CHECKS.reconcilePlacement(namespace, service, options);
      return this.doReconcilePlacement(
        namespace,
        service,
        options?.batch ?? DEFAULT_PLACEMENT_BATCH,
        options?.full ?? false,
      );
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    unregisterTelemetry(this.telemetry);
    await this.releaseResources();
    if (closeChannel.hasSubscribers) closeChannel.publish(this.lifecycleMessage());
  }

  abstract describe(): ExecutorDescription;
  abstract stats(): ExecutorStats;
  abstract checkHealth(): Promise<HealthStatus>;
  /** Releases what the backend owns; called once by close(). */
  protected abstract releaseResources(): Promise<void>;

  protected abstract doSetServiceState(
    ns: string,
    svc: string,
    podId: number,
    state: string,
  ): Promise<void>;
  /** `hit` is set when traced or recorded: a near-cache hit calls `hit.markCached()`. */
  protected abstract doGetServiceState(
    ns: string,
    svc: string,
    hit: CacheHitSink | undefined,
  ): Promise<Record<number, string>>;
  protected abstract doSetWorkloadState(ns: string, svc: string, state: string): Promise<void>;
  protected abstract doGetWorkloadState(
    ns: string,
    svc: string,
    hit: CacheHitSink | undefined,
  ): Promise<string | null>;
  protected abstract doGetWorkloadStateBatch(
    ns: string,
    svcs: readonly string[],
  ): Promise<Record<string, string>>;
  protected abstract doSetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<number>;
  protected abstract doTrySetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<TrySetResult>;
  /** `hit`: as for doGetServiceState (a live cached link answers without a round trip). */
  protected abstract doSetLinkedPodIfAbsent(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
    hit: CacheHitSink | undefined,
  ): Promise<number>;
  protected abstract doGetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    hit: CacheHitSink | undefined,
  ): Promise<number>;
  protected abstract doGetLinkedPodIfPersist(
    ns: string,
    uid: string,
    svc: string,
    hit: CacheHitSink | undefined,
  ): Promise<number>;
  protected abstract doBatchGetLinkedPod(
    ns: string,
    uids: readonly string[],
    svc: string,
  ): Promise<Record<number, string[]>>;
  protected abstract doRemoveLinkedPod(ns: string, uid: string, svc: string): Promise<boolean>;
  protected abstract doRemoveLinkedPodWithId(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
  ): Promise<boolean>;
  protected abstract doGetLinkService(ns: string, uid: string): Promise<Record<string, number>>;

  protected abstract doRegisterPod(
    ns: string,
    svc: string,
    podId: number,
    capacity: number,
    ttlSeconds: number,
  ): Promise<void>;
  protected abstract doSetDraining(
    ns: string,
    svc: string,
    podId: number,
    draining: boolean,
  ): Promise<void>;
  /** @throws NoCapacityError when no pod has room (nothing written) */
  protected abstract doAllocate(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
  ): Promise<Allocation>;
  protected abstract doRelease(ns: string, uid: string, svc: string): Promise<ReleaseResult>;
  protected abstract doPlacement(ns: string, svc: string): Promise<Placement>;
  protected abstract doSweepDeadPods(ns: string, svc: string, batch: number): Promise<SweepResult>;
  protected abstract doReconcilePlacement(
    ns: string,
    svc: string,
    batch: number,
    full: boolean,
  ): Promise<ReconcileResult>;
}
