/**
 * The benchmark workload: the traffic the original services send (contract section 5),
 * driven against any executor with a fixed number of calls in flight for a bounded time,
 * measured by an analyzer. Deterministic for a given seed: each worker draws its
 * operations and keys from its own small PRNG.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { OPERATIONS } from '@stateful-route/executor-core';
import type { OperationName, StatefulExecutor } from '@stateful-route/executor-core';
import { createAnalyzer, inFlightProbe } from './analyzer.js';
import type { Analyzer } from './analyzer.js';
import { InvalidOptionError } from './errors.js';
import type { RedisInfoSource } from './redis-info.js';
import type { AnalysisSnapshot } from './snapshot.js';

/**
 * The default operation mix, by weight, in the shape of contract section 5. Routers without a
 * local cache read `getServiceState` on every request (the hottest read) and call
 * `setLinkedPodIfAbsent(..., 300)` only when their 240 s uid cache misses; servers bind users
 * with `trySetLinkedPod(..., -1)`; pods write their state every 30 s and pod 0 the workload
 * state every 60 s. Those writes are a few per minute against thousands of reads per second;
 * they are kept at 1% so that benchmarks still exercise the write path and invalidations.
 */
export const DEFAULT_MIX: Readonly<Partial<Record<OperationName, number>>> = {
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
  elapsedMs: number;
  /** Calls completed so far (successes and errors). */
  operations: number;
  errors: number;
}

/** Options of `runWorkload`. */
export interface WorkloadOptions {
  /** How long to drive traffic, in ms. Required; the run stops by itself after it. */
  durationMs: number;
  /** Calls in flight at once. Default 64. */
  concurrency?: number;
  /** Key namespace. Default `sr-bench`. */
  namespace?: string;
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
  mix?: Partial<Record<OperationName, number>>;
  /** PRNG seed; the same seed gives every worker the same sequence of calls. Default 1. */
  seed?: number;
  /** Stops the run early. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` and once at the end. */
  onProgress?: (progress: WorkloadProgress) => void;
  /** Default 250 ms. */
  progressIntervalMs?: number;
  /**
   * Measure with this analyzer (it is neither reset nor closed). Default: one created for
   * the run, listening only to this executor, closed at the end.
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

/** What a workload run did. */
export interface WorkloadResult {
  operations: number;
  errors: number;
  elapsedMs: number;
  /** Completed calls per second. */
  throughput: number;
  snapshot: AnalysisSnapshot;
}

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
  names: OperationName[];
  cumulative: number[];
} {
  const names: OperationName[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [name, weight] of Object.entries(mix)) {
    if (!(OPERATIONS as readonly string[]).includes(name)) {
      throw new InvalidOptionError('mix', `unknown operation "${name}"`);
    }
    if (weight === undefined) continue;
    if (!Number.isFinite(weight) || weight < 0) {
      throw new InvalidOptionError('mix', `weight of ${name} must be >= 0`);
    }
    if (weight === 0) continue;
    total += weight;
    names.push(name as OperationName);
    cumulative.push(total);
  }
  if (total === 0) throw new InvalidOptionError('mix', 'needs at least one positive weight');
  return { names, cumulative: cumulative.map((c) => c / total) };
}

/**
 * Drives the benchmark workload against `executor` for `durationMs` with `concurrency`
 * calls in flight, and returns the counts and the analyzer's snapshot of the run.
 * Failed calls are counted and the run goes on.
 * @throws SR_ANALYZER_INVALID_OPTION for a bad duration, concurrency, key space or mix.
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
  const concurrency = positiveInteger('concurrency', options.concurrency, 64);
  const services = positiveInteger('services', options.services, 4);
  const pods = positiveInteger('pods', options.pods, 8);
  const uids = positiveInteger('uids', options.uids, 10_000);
  const progressIntervalMs = positiveInteger('progressIntervalMs', options.progressIntervalMs, 250);
  const seed = options.seed ?? 1;
  const namespace = options.namespace ?? 'sr-bench';
  const { names, cumulative } = normaliseMix(options.mix ?? DEFAULT_MIX);
  const serviceNames = Array.from({ length: services }, (_, i) => `svc-${i}`);

  if (options.prepare !== false) {
    for (const service of serviceNames) {
      for (let pod = 0; pod < pods; pod += 1) {
        await executor.setServiceState(namespace, service, pod, `{"load":${pod},"routable":1}`);
      }
      await executor.setWorkloadState(namespace, service, `{"replicas":${pods}}`);
    }
  }

  const ownAnalyzer = options.analyzer === undefined;
  const analyzer =
    options.analyzer ??
    createAnalyzer({ executor, ...(options.redis ? { redis: options.redis } : {}) });

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

  // Once every 64 calls, right after issuing one: a moment when this run's calls are in
  // flight, even on a backend that settles them in microtasks.
  const probe = inFlightProbe(analyzer);
  let issued = 0;

  let completed = 0;
  let failed = 0;
  let stop = options.signal?.aborted === true;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
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
  options.signal?.addEventListener('abort', onAbort, { once: true });

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
        return executor.setLinkedPod(namespace, uidOf(uidIndex), service, pod, 300);
      case 'trySetLinkedPod':
        return executor.trySetLinkedPod(namespace, uidOf(uidIndex), service, pod, -1);
      case 'setLinkedPodIfAbsent':
        return executor.setLinkedPodIfAbsent(namespace, uidOf(uidIndex), service, pod, 300);
      case 'getLinkedPod':
        return executor.getLinkedPod(namespace, uidOf(uidIndex), service);
      case 'getLinkedPodIfPersist':
        return executor.getLinkedPodIfPersist(namespace, uidOf(uidIndex), service);
      case 'batchGetLinkedPod': {
        const batch = Array.from({ length: 16 }, () => uidOf(Math.floor(random() * uids)));
        return executor.batchGetLinkedPod(namespace, batch, service);
      }
      case 'removeLinkedPod':
        return executor.removeLinkedPod(namespace, uidOf(uidIndex), service, 0);
      case 'removeLinkedPodWithId':
        return executor.removeLinkedPodWithId(namespace, uidOf(uidIndex), service, 0, pod);
      case 'getLinkService':
        return executor.getLinkService(namespace, uidOf(uidIndex));
    }
  };

  // An in-memory backend, or one that fails fast, settles in microtasks only, which would
  // starve timers (progress, abort, the caller's own). Once every 64 calls the clock says
  // whether the run is over or YIELD_EVERY_MS went by; then every worker waits on ONE shared
  // setImmediate: if each yielded on its own, every resumed worker would run its own 10 ms
  // of microtasks inside the same check phase and timers would wait 64 times as long.
  let lastYield = performance.now();
  let gate: Promise<void> | undefined;
  const pause = (): Promise<void> =>
    (gate ??= yieldToEventLoop().then(() => {
      gate = undefined;
      lastYield = performance.now();
    }));

  const worker = async (index: number): Promise<void> => {
    // Distinct, reproducible streams per worker.
    const random = createRandom((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
    while (!stop) {
      try {
        const pending = call(random);
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
      elapsedMs: Math.round(performance.now() - startedAt),
      operations: completed,
      errors: failed,
    });
  const progressTimer = options.onProgress ? setInterval(report, progressIntervalMs) : undefined;
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    clearTimeout(deadlineTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const elapsedMs = performance.now() - startedAt;
  report();
  try {
    const snapshot = await analyzer.capture();
    return {
      operations: completed,
      errors: failed,
      elapsedMs: Math.round(elapsedMs),
      throughput: Math.round((completed / (elapsedMs / 1000)) * 100) / 100,
      snapshot,
    };
  } finally {
    if (ownAnalyzer) analyzer.close();
  }
}
