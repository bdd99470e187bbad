/**
 * The benchmark workload: the traffic the original services send (contract section 5),
 * driven against any executor with a fixed number of calls in flight for a bounded time,
 * measured by an analyzer. Deterministic for a given seed: each worker draws its
 * operations and keys from its own small PRNG. A warm-up before the measured part keeps a
 * cold start (JIT, connections, script cache, Redis' first allocations) out of the figures,
 * and every key the run wrote is deleted at the end unless the caller keeps them.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ALL_OPERATIONS, hasNamespaceMaintenance, OPERATIONS } from '@stateful-route/executor-core';
import type { ContractOperationName, StatefulExecutor } from '@stateful-route/executor-core';
import { createAnalyzer, inFlightProbe } from './analyzer.js';
import type { Analyzer } from './analyzer.js';
import { InvalidOptionError } from './errors.js';
import type { RedisInfoSource } from './redis-info.js';
import type { AnalysisSnapshot } from './snapshot.js';

/**
 * The default operation mix, by weight, in the shape of contract section 5. Routers without a
 * local cache read `getServiceState` on every request (the hottest read) and call
 * `setLinkedPodIfAbsent` with `persistSeconds: 300` only when their 240 s uid cache misses;
 * servers bind users with `trySetLinkedPod` and `persistSeconds: -1`; pods write their state
 * every 30 s and pod 0 the workload state every 60 s. Those writes are a few per minute
 * against thousands of reads per second; they are kept at 1% so that benchmarks still
 * exercise the write path and invalidations.
 */
export const DEFAULT_MIX: Readonly<Partial<Record<ContractOperationName, number>>> = {
  getServiceState: 70,
  setLinkedPodIfAbsent: 15,
  getLinkedPod: 7,
  trySetLinkedPod: 4,
  getWorkloadState: 2,
  setServiceState: 1,
  setWorkloadState: 1,
};

/** Progress of a running workload. */
export interface WorkloadProgress {
  /** `warmup` (not measured) or `measure`. */
  phase: 'warmup' | 'measure';
  /** Time since the phase began. */
  elapsedMs: number;
  /** Calls completed so far in this phase (successes and errors). */
  operations: number;
  errors: number;
}

/** Options of `runWorkload`. */
export interface WorkloadOptions {
  /** How long to drive traffic, in ms. Required; the run stops by itself after it. */
  durationMs: number;
  /** Calls in flight at once. Default 64. */
  concurrency?: number;
  /**
   * Offered load in calls per second, at most (the run is then paced: each worker calls on
   * its own schedule of `concurrency / rate` seconds, and goes on at once while behind it).
   * Default: none, every worker calls again as soon as its call ends (closed loop). Two
   * configurations compare fairly on latency at one `rate` that both sustain; at full speed
   * the faster one also runs at a higher load.
   */
  rate?: number;
  /**
   * Key namespace. Default: a fresh one per run, `sr-bench-<8 hex digits>`. Unless `keep` is
   * true it must hold no key when the run starts (its keys are all deleted at the end).
   */
  namespace?: string;
  /**
   * Traffic driven before the measured part, in ms, with the same mix and key space; it is
   * counted nowhere (not in the result, not in the analyzer the run creates). Default: the
   * shorter of 1000 ms and `durationMs`; 0 turns it off.
   */
  warmupMs?: number;
  /**
   * Keep the keys the run wrote. Default false: every key of the namespace is deleted when
   * the run ends, also when it ends by abort or error; the run is then refused on a
   * namespace that already holds keys, so that nothing it did not write is deleted.
   */
  keep?: boolean;
  /** Number of services (`svc-0`...). Default 4. */
  services?: number;
  /** Pods per service (ids 0..pods-1). Default 8. */
  pods?: number;
  /** Number of distinct uids (`u-0`...). Default 10 000. */
  uids?: number;
  /**
   * Operation -> weight. Replaces the default mix entirely (operations not named are not
   * called). Default `DEFAULT_MIX`.
   */
  mix?: Partial<Record<ContractOperationName, number>>;
  /** PRNG seed; the same seed gives every worker the same sequence of calls. Default 1. */
  seed?: number;
  /** Stops the run early. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` and once at the end. */
  onProgress?: (progress: WorkloadProgress) => void;
  /** Default 250 ms. */
  progressIntervalMs?: number;
  /**
   * Measure with this analyzer (it is neither reset nor closed, and it sees the warm-up and
   * `prepare` calls too). Default: one created for the run after the warm-up, listening
   * only to this executor, closed at the end.
   */
  analyzer?: Analyzer;
  /** Redis client for `INFO` deltas, used when the workload creates its analyzer. */
  redis?: RedisInfoSource;
  /**
   * Write every pod's state and every workload state before measuring, so reads return
   * data. Default true. With a caller's analyzer these writes are counted too.
   */
  prepare?: boolean;
}

/** What a workload run did (its measured part: the warm-up is not in these figures). */
export interface WorkloadResult {
  /** The namespace the run wrote under. */
  namespace: string;
  operations: number;
  errors: number;
  elapsedMs: number;
  /** Completed calls per second. */
  throughput: number;
  snapshot: AnalysisSnapshot;
  /** Calls the warm-up completed (counted nowhere else). */
  warmupOperations: number;
  /** Keys deleted at the end; 0 with `keep`. */
  deletedKeys: number;
}

/** The warm-up when none is given: the shorter of this and the run. */
const DEFAULT_WARMUP_MS = 1000;

/** How long a worker may run without letting timers and I/O in. */
const YIELD_EVERY_MS = 10;
/**
 * The checks that are not made on every call run once every 64 (a mask, 2^n - 1): the clock
 * read that decides a yield, the analyzer's look at the calls in flight.
 */
const EVERY_64 = 63;
/** Uid strings kept once built (`u-0`...); a larger key space builds the rest per call. */
const UID_CACHE = 1 << 20;
/** The longest delay a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** mulberry32: a tiny, fast PRNG with a 32-bit state; plenty for picking keys. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidOptionError(name, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function normaliseMix(mix: Partial<Record<string, number>>): {
  names: ContractOperationName[];
  cumulative: number[];
} {
  const names: ContractOperationName[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [name, weight] of Object.entries(mix)) {
    if (!(OPERATIONS as readonly string[]).includes(name)) {
      throw new InvalidOptionError(
        'mix',
        (ALL_OPERATIONS as readonly string[]).includes(name)
          ? `"${name}" is a placement operation; the mix takes contract operations only`
          : `unknown operation "${name}"`,
      );
    }
    if (weight === undefined) continue;
    if (!Number.isFinite(weight) || weight < 0) {
      throw new InvalidOptionError('mix', `weight of ${name} must be >= 0`);
    }
    if (weight === 0) continue;
    total += weight;
    names.push(name as ContractOperationName);
    cumulative.push(total);
  }
  if (total === 0) throw new InvalidOptionError('mix', 'needs at least one positive weight');
  return { names, cumulative: cumulative.map((c) => c / total) };
}

/** A namespace for one run: `sr-bench-` and 8 random hex digits. */
function freshNamespace(): string {
  return `sr-bench-${randomBytes(4).toString('hex')}`;
}

/** What one phase (warm-up or measured) of the run did. */
interface PhaseResult {
  completed: number;
  failed: number;
  elapsedMs: number;
}

/**
 * Drives the benchmark workload against `executor` for `durationMs` with `concurrency`
 * calls in flight, after a warm-up that is not measured, and returns the counts and the
 * analyzer's snapshot of the measured part. Failed calls are counted and the run goes on.
 * Every key of the namespace is deleted when the run ends (also on abort or error) unless
 * `keep` is true; without `keep` the namespace must be empty when the run starts.
 * @throws SR_ANALYZER_INVALID_OPTION for a bad duration, warm-up, concurrency, key space or
 * mix; for a namespace that already holds keys, or an executor that cannot delete a
 * namespace's keys, when `keep` is not true.
 * @example
 * const { throughput, snapshot } = await runWorkload(executor, { durationMs: 10_000 });
 */
export async function runWorkload(
  executor: StatefulExecutor,
  options: WorkloadOptions,
): Promise<WorkloadResult> {
  if (!Number.isFinite(options.durationMs) || options.durationMs <= 0) {
    throw new InvalidOptionError('durationMs', 'must be a positive number of milliseconds');
  }
  const warmupMs = options.warmupMs ?? Math.min(DEFAULT_WARMUP_MS, options.durationMs);
  if (!Number.isFinite(warmupMs) || warmupMs < 0) {
    throw new InvalidOptionError('warmupMs', 'must be a number of milliseconds >= 0');
  }
  const concurrency = positiveInteger('concurrency', options.concurrency, 64);
  const rate = options.rate;
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) {
    throw new InvalidOptionError('rate', 'must be a positive number of calls per second');
  }
  const services = positiveInteger('services', options.services, 4);
  const pods = positiveInteger('pods', options.pods, 8);
  const uids = positiveInteger('uids', options.uids, 10_000);
  const progressIntervalMs = positiveInteger('progressIntervalMs', options.progressIntervalMs, 250);
  const seed = options.seed ?? 1;
  const namespace = options.namespace ?? freshNamespace();
  const keep = options.keep === true;
  const { names, cumulative } = normaliseMix(options.mix ?? DEFAULT_MIX);
  const serviceNames = Array.from({ length: services }, (_, i) => `svc-${i}`);

  // Deleting the namespace at the end is safe only if it held nothing before: a key the run
  // finds there is the caller's, and the run may even have overwritten it.
  let cleanup: (() => Promise<number>) | undefined;
  if (!keep) {
    if (!hasNamespaceMaintenance(executor)) {
      throw new InvalidOptionError(
        'keep',
        `executor ${executor.name} cannot delete a namespace's keys; pass keep: true to run ` +
          'and keep what the run writes',
      );
    }
    if (await executor.hasNamespaceKeys(namespace)) {
      throw new InvalidOptionError(
        'namespace',
        `namespace "${namespace}" already holds keys; the run deletes every key of its ` +
          'namespace at the end, so give an empty one (or none), or pass keep: true',
      );
    }
    cleanup = () => executor.deleteNamespaceKeys(namespace);
  }

  let outcome: WorkloadResult | undefined;
  try {
    outcome = await drive(executor, options, {
      namespace,
      warmupMs,
      concurrency,
      // One worker's time between calls, in ms (0: closed loop).
      intervalMs: rate === undefined ? 0 : (concurrency * 1000) / rate,
      pods,
      uids,
      progressIntervalMs,
      seed,
      names,
      cumulative,
      serviceNames,
    });
  } finally {
    // On an error, that error is the one thrown; a cleanup failing after it (most likely
    // for the same cause) must not hide it.
    if (cleanup !== undefined) {
      if (outcome === undefined) await cleanup().catch(() => 0);
      else outcome.deletedKeys = await cleanup();
    }
  }
  return outcome;
}

/** The options of a run, checked and filled in. */
interface RunPlan {
  namespace: string;
  warmupMs: number;
  concurrency: number;
  intervalMs: number;
  pods: number;
  uids: number;
  progressIntervalMs: number;
  seed: number;
  names: ContractOperationName[];
  cumulative: number[];
  serviceNames: string[];
}

async function drive(
  executor: StatefulExecutor,
  options: WorkloadOptions,
  plan: RunPlan,
): Promise<WorkloadResult> {
  const { namespace, concurrency, intervalMs, pods, uids, seed, names, cumulative, serviceNames } =
    plan;
  const services = serviceNames.length;
  const signal = options.signal;

  if (options.prepare !== false) {
    for (const service of serviceNames) {
      if (signal?.aborted === true) break;
      for (let pod = 0; pod < pods; pod += 1) {
        await executor.setServiceState(namespace, service, pod, `{"load":${pod},"routable":1}`);
      }
      await executor.setWorkloadState(namespace, service, `{"replicas":${pods}}`);
    }
  }

  // The harness's own work per call is kept small, since it is paid on top of what it
  // measures: the executor's telemetry already times every call (the analyzer reads it), so
  // no clock is read per call here, and the strings a call needs are built once.
  const states = Array.from({ length: 100 }, (_, load) => `{"load":${load},"routable":1}`);
  const workloadState = `{"replicas":${pods}}`;
  // Built on first use (a large key space is not built up front), kept up to UID_CACHE.
  const uidNames = new Array<string | undefined>(Math.min(uids, UID_CACHE));
  const uidOf = (n: number): string =>
    n < uidNames.length ? (uidNames[n] ??= `u-${n}`) : `u-${n}`;
  const last = names.length - 1;

  const call = (random: () => number): Promise<unknown> => {
    const r = random();
    let index = 0;
    while (index < last && r >= cumulative[index]!) index += 1;
    const operation = names[index]!;
    const service = serviceNames[Math.floor(random() * services)]!;
    // Drawn for every call, used by some: each worker's sequence stays that of its seed.
    const uidIndex = Math.floor(random() * uids);
    const pod = Math.floor(random() * pods);
    switch (operation) {
      case 'setServiceState':
        return executor.setServiceState(
          namespace,
          service,
          pod,
          states[Math.floor(random() * 100)]!,
        );
      case 'getServiceState':
        return executor.getServiceState(namespace, service);
      case 'setWorkloadState':
        return executor.setWorkloadState(namespace, service, workloadState);
      case 'getWorkloadState':
        return executor.getWorkloadState(namespace, service);
      case 'getWorkloadStateBatch':
        return executor.getWorkloadStateBatch(namespace, serviceNames);
      case 'setLinkedPod':
        return executor.setLinkedPod(namespace, uidOf(uidIndex), service, {
          podId: pod,
          persistSeconds: 300,
        });
      case 'trySetLinkedPod':
        return executor.trySetLinkedPod(namespace, uidOf(uidIndex), service, {
          podId: pod,
          persistSeconds: -1,
        });
      case 'setLinkedPodIfAbsent':
        return executor.setLinkedPodIfAbsent(namespace, uidOf(uidIndex), service, {
          podId: pod,
          persistSeconds: 300,
        });
      case 'getLinkedPod':
        return executor.getLinkedPod(namespace, uidOf(uidIndex), service);
      case 'getLinkedPodIfPersist':
        return executor.getLinkedPodIfPersist(namespace, uidOf(uidIndex), service);
      case 'batchGetLinkedPod': {
        const batch = Array.from({ length: 16 }, () => uidOf(Math.floor(random() * uids)));
        return executor.batchGetLinkedPod(namespace, batch, service);
      }
      case 'removeLinkedPod':
        return executor.removeLinkedPod(namespace, uidOf(uidIndex), service);
      case 'removeLinkedPodWithId':
        return executor.removeLinkedPodWithId(namespace, uidOf(uidIndex), service, { podId: pod });
      case 'getLinkService':
        return executor.getLinkService(namespace, uidOf(uidIndex));
    }
  };

  /**
   * Drives traffic for `durationMs`. `salt` picks the workers' PRNG streams: the measured
   * phase uses the seed's own streams whether or not a warm-up ran before it.
   */
  const phase = async (
    name: WorkloadProgress['phase'],
    durationMs: number,
    salt: number,
    probe: (() => void) | undefined,
  ): Promise<PhaseResult> => {
    let issued = 0;
    let completed = 0;
    let failed = 0;
    let stop = signal?.aborted === true;
    const startedAt = performance.now();
    const deadline = startedAt + durationMs;
    // Workers only read a flag. It is set by a timer, and by the clock read once every 64
    // calls below (a backend that settles in microtasks lets timers in only when it yields).
    let deadlineTimer: NodeJS.Timeout | undefined;
    const checkDeadline = (): void => {
      const left = deadline - performance.now();
      if (left <= 0) stop = true;
      else deadlineTimer = setTimeout(checkDeadline, Math.min(Math.ceil(left), MAX_TIMER_MS));
    };
    checkDeadline();
    const onAbort = (): void => {
      stop = true;
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    // An in-memory backend, or one that fails fast, settles in microtasks only, which would
    // starve timers (progress, abort, the caller's own). Once every 64 calls the clock says
    // whether the run is over or YIELD_EVERY_MS went by; then every worker waits on ONE
    // shared setImmediate: if each yielded on its own, every resumed worker would run its
    // own 10 ms of microtasks inside the same check phase and timers would wait 64 times as
    // long.
    let lastYield = performance.now();
    let gate: Promise<void> | undefined;
    const pause = (): Promise<void> =>
      (gate ??= yieldToEventLoop().then(() => {
        gate = undefined;
        lastYield = performance.now();
      }));

    const worker = async (index: number): Promise<void> => {
      // Distinct, reproducible streams per worker.
      const random = createRandom((seed * 0x9e3779b1 + index * 0x85ebca6b + salt) >>> 0);
      // Paced: the workers' schedules are staggered over one interval.
      let next = startedAt + (index * intervalMs) / concurrency;
      while (!stop) {
        if (intervalMs > 0) {
          // Timers have millisecond grain: wait only when a whole one is ahead; a worker
          // that is behind calls at once until it is on schedule again.
          const ahead = next - performance.now();
          if (ahead >= 1) {
            await sleep(ahead);
            if (stop) break;
          }
          next += intervalMs;
        }
        try {
          const pending = call(random);
          // Once every 64 calls, right after issuing one: a moment when this run's calls
          // are in flight, even on a backend that settles them in microtasks.
          if ((++issued & EVERY_64) === 0) probe?.();
          await pending;
        } catch {
          failed += 1;
        }
        completed += 1;
        if (gate !== undefined) await gate;
        else if ((completed & EVERY_64) === 0) {
          const at = performance.now();
          if (at >= deadline) stop = true;
          else if (at - lastYield > YIELD_EVERY_MS) await pause();
        }
      }
    };

    const report = (): void =>
      options.onProgress?.({
        phase: name,
        elapsedMs: Math.round(performance.now() - startedAt),
        operations: completed,
        errors: failed,
      });
    const progressTimer = options.onProgress
      ? setInterval(report, plan.progressIntervalMs)
      : undefined;
    try {
      await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
    } finally {
      if (progressTimer) clearInterval(progressTimer);
      clearTimeout(deadlineTimer);
      signal?.removeEventListener('abort', onAbort);
    }
    const elapsedMs = performance.now() - startedAt;
    if (name === 'measure') report();
    return { completed, failed, elapsedMs };
  };

  // The warm-up runs before the run's own analyzer exists, so neither its calls nor its
  // Redis INFO deltas are in the snapshot.
  const warmup =
    plan.warmupMs > 0 ? await phase('warmup', plan.warmupMs, 0x5bd1e995, undefined) : undefined;

  const ownAnalyzer = options.analyzer === undefined;
  const analyzer =
    options.analyzer ??
    createAnalyzer({ executor, ...(options.redis ? { redis: options.redis } : {}) });
  try {
    const measured = await phase('measure', options.durationMs, 0, inFlightProbe(analyzer));
    const snapshot = await analyzer.capture();
    return {
      namespace,
      operations: measured.completed,
      errors: measured.failed,
      elapsedMs: Math.round(measured.elapsedMs),
      throughput: Math.round((measured.completed / (measured.elapsedMs / 1000)) * 100) / 100,
      snapshot,
      warmupOperations: warmup?.completed ?? 0,
      deletedKeys: 0,
    };
  } finally {
    if (ownAnalyzer) analyzer.close();
  }
}
