/**
 * Placement (docs/placement.md): pods register a capacity and a liveness lease, and
 * `allocate` picks a pod for a new uid, claims one unit of its capacity and links the uid to
 * it, so that no pod ever holds more claims than its capacity, whatever the number of routers.
 * The link is an ordinary contract link; the claims live in placement keys of their own
 * (`sf:{<ns>:pl:<svc>}...`, one hash tag per service).
 *
 * This module holds what every backend shares: the operation names, the value types, the
 * key layout and the argument checks.
 */
import { ValidationError } from './errors.js';
import {
  checkId,
  checkNamespace,
  checkOptions,
  checkPersistSeconds,
  checkPodId,
  checkRequired,
} from './validation.js';

/** The placement operations, timed and published like the contract's. */
export const PLACEMENT_OPERATIONS = [
  'registerPod',
  'drainPod',
  'undrainPod',
  'allocate',
  'release',
  'placement',
  'sweepDeadPods',
  'reconcilePlacement',
] as const;

export type PlacementOperationName = (typeof PLACEMENT_OPERATIONS)[number];

/** How `allocate` chooses among the pods with room. */
export const PLACEMENT_STRATEGIES = ['least-loaded', 'packed'] as const;
/**
 * `least-loaded` (default): the lowest load / capacity, then the lower pod id (spreads).
 * `packed`: the highest load / capacity below 1, then the lower pod id (fills one pod before
 * the next, so that pods can be emptied). Ratios are compared as the doubles load / capacity,
 * as Redis scores them.
 */
export type PlacementStrategy = (typeof PLACEMENT_STRATEGIES)[number];

/** Largest capacity and ttlSeconds (signed 32-bit, as Redis scripts read integers). */
export const MAX_PLACEMENT_INT = 2 ** 31 - 1;
/** The default and the largest batch of one sweep or reconcile step. */
export const DEFAULT_PLACEMENT_BATCH = 100;
export const MAX_PLACEMENT_BATCH = 200;
/**
 * How long a claim may stay pending (claimed, its link not yet confirmed: a Cluster allocation
 * in flight) before a reconcile pass settles it from the link.
 */
export const PENDING_GRACE_MS = 10_000;

/** The values of `registerPod`. */
export interface RegisterPodOptions {
  /** Users the pod takes: 0..2^31-1 (0: registered, never placed on). */
  capacity: number;
  /** The liveness lease in seconds, 1..2^31-1: the pod is dead when it runs out. */
  ttlSeconds: number;
}

/** The values of `allocate`. */
export interface AllocateOptions {
  /** The link's lifetime: -1 permanent, else 1..2^31-1 seconds (as for `setLinkedPod`). */
  persistSeconds: number;
  /** Default `least-loaded`. */
  strategy?: PlacementStrategy | undefined;
}

/** The result of `allocate`. */
export interface Allocation {
  /** The pod the uid is linked to. */
  podId: number;
  /** True when this call placed the uid; false when it already had a link (nothing changed). */
  created: boolean;
  /** The pod's claims after the call, or null when the pod is not registered. */
  load: number | null;
  /** The pod's capacity, or null when the pod is not registered. */
  capacity: number | null;
}

/** The result of `release`. */
export interface ReleaseResult {
  /** True when a link was removed. */
  released: boolean;
  /** The pod the link held, or -1 when there was none. */
  podId: number;
}

/** `dead`: the lease ran out; else `draining` when drained; else `live`. */
export type PodStatus = 'live' | 'draining' | 'dead';

/** One pod in `placement()`. */
export interface PodPlacement {
  /** Claims on the pod. */
  load: number;
  capacity: number;
  status: PodStatus;
  /** Milliseconds left on the lease (negative when dead). */
  leaseMs: number;
}

/** The result of `placement()`: every registered pod, by id. */
export interface Placement {
  pods: Record<string, PodPlacement>;
}

/** The options of `sweepDeadPods` and `reconcilePlacement`. */
export interface PlacementBatchOptions {
  /** Uids per step, 1..200 (default 100): each Redis call handles at most this many. */
  batch?: number | undefined;
}

export interface ReconcileOptions extends PlacementBatchOptions {
  /**
   * Also compare every claim with its link and adopt links that no claim covers (scans the
   * service's claims and the namespace's links). Default false: only expired temporary links
   * and stale pending claims.
   */
  full?: boolean | undefined;
}

/** The result of `sweepDeadPods`. */
export interface SweepResult {
  /** Links of dead pods deleted. */
  swept: number;
  /** Claims released (a claim whose link had moved is released without deleting the link). */
  released: number;
}

/** The result of `reconcilePlacement`. */
export interface ReconcileResult {
  /** Claims compared with their links. */
  checked: number;
  /** Claims released (link gone, expired or moved). */
  released: number;
  /** Pending claims confirmed (their link holds their pod). */
  confirmed: number;
  /** Links that no claim covered, now counted (full pass only). */
  adopted: number;
}

/**
 * Placement: capacity-aware allocation, leases, drain and the sweep of dead pods, on every
 * backend. See docs/placement.md for the keys, the invariants and the failure cases.
 */
export interface PlacementOperations {
  /**
   * Registers the pod with its capacity and renews its lease (repeat it as a heartbeat).
   * @example
   * await executor.registerPod('default', 'room', 3, { capacity: 100, ttlSeconds: 15 });
   * @throws SR_VALIDATION
   */
  registerPod(
    namespace: string,
    service: string,
    podId: number,
    options: RegisterPodOptions,
  ): Promise<void>;
  /** Stops new placements on the pod; its links keep resolving. @throws SR_VALIDATION */
  drainPod(namespace: string, service: string, podId: number): Promise<void>;
  /** Ends a drain. @throws SR_VALIDATION */
  undrainPod(namespace: string, service: string, podId: number): Promise<void>;
  /**
   * The uid's pod: its link if it has one (`created: false`, nothing written), else a live,
   * non-draining pod with room chosen by `strategy`, claimed and linked in one step.
   * @example
   * const { podId } = await executor.allocate('default', 'user123', 'room', { persistSeconds: -1 });
   * @throws SR_NO_CAPACITY when no pod has room (nothing written), SR_VALIDATION
   */
  allocate(
    namespace: string,
    uid: string,
    service: string,
    options: AllocateOptions,
  ): Promise<Allocation>;
  /** Removes the uid's link and frees its claim. @throws SR_VALIDATION */
  release(namespace: string, uid: string, service: string): Promise<ReleaseResult>;
  /** Every registered pod of the service with its load, capacity and status. */
  placement(namespace: string, service: string): Promise<Placement>;
  /**
   * Deletes the links of dead pods (compare-and-delete: a link moved meanwhile is kept) and
   * frees their claims, in batches; a dead pod with nothing left is unregistered.
   */
  sweepDeadPods(
    namespace: string,
    service: string,
    options?: PlacementBatchOptions,
  ): Promise<SweepResult>;
  /** Repairs drift between claims and links (docs/placement.md, "Reconcile"). */
  reconcilePlacement(
    namespace: string,
    service: string,
    options?: ReconcileOptions,
  ): Promise<ReconcileResult>;
}

// ---------------------------------------------------------------------------------------
// Keys: everything of one service under the hash tag `{<ns>:pl:<svc>}` (one Cluster slot).

/** The hash tag part of every placement key of a service: `sf:{<ns>:pl:<svc>}`. */
export function placementKeyPrefix(namespace: string, service: string): string {
  return `sf:{${namespace}:pl:${service}}`;
}

/** The placement keys of one service (docs/placement.md, "Keys"). */
export interface PlacementKeys {
  /** hash pod -> capacity */
  cap: string;
  /** zset pod, score = lease end (ms) */
  lease: string;
  /** set of draining pods */
  drain: string;
  /** hash pod -> claims */
  load: string;
  /** hash uid -> pod of its claim */
  claim: string;
  /** zset uid, score = when its temporary link should have expired (ms) */
  exp: string;
  /** zset uid, score = claim time (ms), while the link is not confirmed */
  pending: string;
  /**
   * zset of the pods that may take a placement (registered, not draining, below capacity),
   * member the pod id zero-padded to 16 digits, score load / capacity: what `allocate`
   * chooses from without reading every pod.
   */
  free: string;
  /** The start of the per-pod uid sets: `uids:<podId>` follows. */
  uidsPrefix: string;
}

export function placementKeys(namespace: string, service: string): PlacementKeys {
  const p = placementKeyPrefix(namespace, service);
  return {
    cap: `${p}cap`,
    lease: `${p}lease`,
    drain: `${p}drain`,
    load: `${p}load`,
    claim: `${p}claim`,
    exp: `${p}exp`,
    pending: `${p}pending`,
    free: `${p}free`,
    uidsPrefix: `${p}uids:`,
  };
}

// ---------------------------------------------------------------------------------------
// Checks: run before any I/O, like the contract operations'.

const REGISTER_OPTIONS = ['capacity', 'ttlSeconds'] as const;
const ALLOCATE_OPTIONS = ['persistSeconds', 'strategy'] as const;
const BATCH_OPTIONS = ['batch'] as const;
const RECONCILE_OPTIONS = ['batch', 'full'] as const;

function checkInt(value: unknown, field: string, min: number, max: number): void {
  checkRequired(value, field);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError(field, 'integer', 'must be an integer');
  }
  if (value < min || value > max) {
    throw new ValidationError(field, 'range', `must be ${min}..${max}`);
  }
}

function serviceOf(namespace: unknown, service: unknown): void {
  checkNamespace(namespace);
  checkId(service, 'service');
}

function pod(namespace: unknown, service: unknown, podId: unknown): void {
  serviceOf(namespace, service);
  checkPodId(podId);
}

function batchOptions(options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  checkOptions(options, known);
  if (options.batch !== undefined) checkInt(options.batch, 'batch', 1, MAX_PLACEMENT_BATCH);
}

/** The strategy of `allocate`, checked. @throws SR_VALIDATION rule `one-of` */
export function checkStrategy(value: unknown): asserts value is PlacementStrategy {
  if (!(PLACEMENT_STRATEGIES as readonly unknown[]).includes(value)) {
    throw new ValidationError(
      'strategy',
      'one-of',
      `must be one of ${PLACEMENT_STRATEGIES.join(', ')}`,
    );
  }
}

/**
 * The argument checks of each placement operation, in the operation's argument order.
 * @throws SR_VALIDATION naming the field and the rule
 */
export const PLACEMENT_CHECKS: {
  readonly [op in PlacementOperationName]: (...args: unknown[]) => void;
} = Object.freeze({
  registerPod(namespace: unknown, service: unknown, podId: unknown, options: unknown) {
    pod(namespace, service, podId);
    checkOptions(options, REGISTER_OPTIONS);
    checkInt(options.capacity, 'capacity', 0, MAX_PLACEMENT_INT);
    checkInt(options.ttlSeconds, 'ttlSeconds', 1, MAX_PLACEMENT_INT);
  },
  drainPod: pod,
  undrainPod: pod,
  allocate(namespace: unknown, uid: unknown, service: unknown, options: unknown) {
    checkNamespace(namespace);
    checkId(uid, 'uid');
    checkId(service, 'service');
    checkOptions(options, ALLOCATE_OPTIONS);
    checkRequired(options.persistSeconds, 'persistSeconds');
    checkPersistSeconds(options.persistSeconds);
    if (options.strategy !== undefined) checkStrategy(options.strategy);
  },
  release(namespace: unknown, uid: unknown, service: unknown) {
    checkNamespace(namespace);
    checkId(uid, 'uid');
    checkId(service, 'service');
  },
  placement: serviceOf,
  sweepDeadPods(namespace: unknown, service: unknown, options?: unknown) {
    serviceOf(namespace, service);
    batchOptions(options, BATCH_OPTIONS);
  },
  reconcilePlacement(namespace: unknown, service: unknown, options?: unknown) {
    serviceOf(namespace, service);
    batchOptions(options, RECONCILE_OPTIONS);
    const full = (options as { full?: unknown } | undefined)?.full;
    if (full !== undefined && typeof full !== 'boolean') {
      throw new ValidationError('full', 'type', 'must be a boolean');
    }
  },
});

/**
 * The status of a pod from its lease end, drain flag and the time (all in ms).
 */
export function podStatus(leaseEnd: number, draining: boolean, now: number): PodStatus {
  if (leaseEnd <= now) return 'dead';
  return draining ? 'draining' : 'live';
}

/**
 * The choice of `allocate` among candidates that are live, not draining and below capacity:
 * returns the index of the chosen one, or -1 when `candidates` is empty. The Lua scripts
 * implement the same order (lua/placement/lib.lua); the conformance suite holds them to it.
 */
export function choosePod(
  candidates: readonly { podId: number; load: number; capacity: number }[],
  strategy: PlacementStrategy,
): number {
  let best = -1;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (best === -1) {
      best = i;
      continue;
    }
    const b = candidates[best]!;
    // The ratio as a double, as the free index of the Redis scripts scores it.
    const mine = c.load / c.capacity;
    const theirs = b.load / b.capacity;
    const better =
      strategy === 'packed'
        ? mine > theirs || (mine === theirs && c.podId < b.podId)
        : mine < theirs || (mine === theirs && c.podId < b.podId);
    if (better) best = i;
  }
  return best;
}
