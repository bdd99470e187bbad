/**
 * The placement sweeper (`--placement-sweep-ms`): on an interval, for every service that has
 * placement data, `sweepDeadPods` (links of pods whose lease ran out are deleted and their
 * claims freed) and `reconcilePlacement` without `full` (claims of expired temporary links and
 * stale pending claims are settled). See docs/placement.md, "Sweep" and "Reconcile".
 *
 * Which services: those this server saw a pod register through its placement routes, and on
 * Redis also those a `SCAN` for `sf:{*:pl:*}lease` finds (every master of a Cluster), so that
 * services whose pods register through other servers or straight through executor-core are
 * swept too. The SCAN walks the whole keyspace, so it runs on the first run and then at most
 * once per `discoveryMs` (30 s by default), not on every run; a service registered through
 * this server is swept from its first registration on.
 */
import { isCluster, type RedisClient, type StatefulExecutor } from '@stateful-route/executor-core';
import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';

/** How often the Redis keyspace is scanned for services with placement data, at least. */
export const PLACEMENT_DISCOVERY_MS = 30_000;
/** Most services the sweeper covers (a bound on its memory). */
export const MAX_TRACKED_SERVICES = 100_000;
/** The SCAN's COUNT hint: keys looked at per SCAN call. */
const SCAN_COUNT = 1000;
/** The keys whose services have pods registered (ns has no `:`, svc no `}`). */
const LEASE_PATTERN = 'sf:{*:pl:*}lease';
const LEASE_KEY = /^sf:\{([^:{}]+):pl:([^{}]+)\}lease$/;

/** The name of the counter of failed sweeper calls, in the server's registry. */
export const SWEEPER_FAILURES_METRIC = 'stateful_route_placement_sweeper_failures_total';

/** Options of `PlacementSweeper`. */
export interface PlacementSweeperOptions {
  executor: StatefulExecutor;
  /** A client for the discovery SCAN (standalone or Cluster), or null: route-seen only. */
  redis: RedisClient | null;
  /** Interval between the starts of two runs, ms (> 0). */
  intervalMs: number;
  log: FastifyBaseLogger;
  /** Where the failure counter goes. */
  registry: Registry;
  /** Least time between two discovery SCANs, ms. Default `PLACEMENT_DISCOVERY_MS`. */
  discoveryMs?: number;
}

/** What one run did. */
export interface SweepRun {
  /** Services swept and reconciled. */
  services: number;
  /** Links of dead pods deleted. */
  swept: number;
  /** Claims released by the sweep and the reconcile. */
  released: number;
  /** Calls (discovery, sweep or reconcile of one service) that failed. */
  failures: number;
}

interface Service {
  ns: string;
  svc: string;
}

// A namespace holds no `:`, so `<ns>:<svc>` names one service unambiguously.
const keyOf = (ns: string, svc: string): string => `${ns}:${svc}`;

/**
 * Runs the sweep of every known service on an interval. Runs never overlap: a tick that comes
 * while the previous run is still going is skipped. A failure is logged once per streak of
 * failing runs (and once more when a run succeeds again) and counted in
 * `stateful_route_placement_sweeper_failures_total`.
 */
export class PlacementSweeper {
  readonly #executor: StatefulExecutor;
  readonly #redis: RedisClient | null;
  readonly #intervalMs: number;
  readonly #discoveryMs: number;
  readonly #log: FastifyBaseLogger;
  readonly #failures: Counter;
  readonly #services = new Map<string, Service>();
  /** Services tracked since the current discovery began (kept when it replaces the set). */
  readonly #recent = new Map<string, Service>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepRun> | undefined;
  #lastDiscovery = -Infinity;
  #failing = false;
  #failedCalls = 0;
  #full = false;
  #closed = false;

  constructor(options: PlacementSweeperOptions) {
    this.#executor = options.executor;
    this.#redis = options.redis;
    this.#intervalMs = options.intervalMs;
    this.#discoveryMs = Math.max(options.discoveryMs ?? PLACEMENT_DISCOVERY_MS, options.intervalMs);
    this.#log = options.log;
    this.#failures = new Counter({
      name: SWEEPER_FAILURES_METRIC,
      help: 'Calls of the placement sweeper (discovery SCAN, sweep or reconcile of one service) that failed.',
      registers: [options.registry],
    });
  }

  /** Remembers a service that has placement data (a pod registered through this server). */
  track(ns: string, svc: string): void {
    const key = keyOf(ns, svc);
    if (this.#services.has(key)) return;
    if (this.#services.size >= MAX_TRACKED_SERVICES) {
      if (!this.#full) {
        this.#full = true;
        this.#log.warn(
          `placement sweeper: more than ${MAX_TRACKED_SERVICES} services with placement data; the others are not swept by this server (POST .../sweep still works)`,
        );
      }
      return;
    }
    const service = { ns, svc };
    this.#services.set(key, service);
    this.#recent.set(key, service);
  }

  /** The services the next run covers (a copy). */
  services(): Service[] {
    return [...this.#services.values()];
  }

  /** Starts the interval (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#running) return; // the previous run is still going: skip this tick
      void this.run();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** One run now (or the one in progress). Never rejects: failures are logged and counted. */
  run(): Promise<SweepRun> {
    this.#running ??= this.#runOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops the interval and waits for a run in progress (it stops between services). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #runOnce(): Promise<SweepRun> {
    const result: SweepRun = { services: 0, swept: 0, released: 0, failures: 0 };
    let firstError: unknown;
    const failed = (error: unknown): void => {
      result.failures += 1;
      this.#failures.inc();
      firstError ??= error;
    };
    if (this.#redis && performance.now() - this.#lastDiscovery >= this.#discoveryMs) {
      try {
        await this.#discover(this.#redis);
      } catch (error) {
        failed(error);
      }
    }
    for (const { ns, svc } of this.services()) {
      if (this.#closed) break;
      try {
        const sweep = await this.#executor.sweepDeadPods(ns, svc);
        const reconcile = await this.#executor.reconcilePlacement(ns, svc);
        result.services += 1;
        result.swept += sweep.swept;
        result.released += sweep.released + reconcile.released;
      } catch (error) {
        if (this.#closed) break;
        failed(error);
      }
    }
    this.#report(result, firstError);
    return result;
  }

  // Logs the first failure of a streak, and the end of a streak.
  #report(result: SweepRun, error: unknown): void {
    if (result.failures > 0) {
      this.#failedCalls += result.failures;
      if (this.#failing) return;
      this.#failing = true;
      this.#log.warn(
        { code: (error as { code?: string }).code },
        `placement sweeper: ${result.failures} call(s) failed (${(error as Error).message}); logged once until a run succeeds, counted in ${SWEEPER_FAILURES_METRIC}`,
      );
      return;
    }
    if (this.#failing) {
      this.#log.info(
        `placement sweeper: runs succeed again after ${this.#failedCalls} failed call(s)`,
      );
      this.#failing = false;
      this.#failedCalls = 0;
    }
    if (result.swept > 0 || result.released > 0) {
      this.#log.info(
        { swept: result.swept, released: result.released, services: result.services },
        'placement sweeper: links of dead pods swept, claims released',
      );
    }
  }

  // SCAN of every master for the services with registered pods. The set becomes what the
  // SCAN found plus what the routes added meanwhile: a service whose pods are all gone drops
  // out of it.
  async #discover(redis: RedisClient): Promise<void> {
    this.#recent.clear();
    const found = new Map<string, Service>();
    const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
    // A Cluster client that knows no master yet (still connecting): try again next run.
    if (nodes.length === 0) return;
    for (const node of nodes) {
      let cursor = '0';
      do {
        if (this.#closed) return;
        const [next, keys] = await node.scan(cursor, 'MATCH', LEASE_PATTERN, 'COUNT', SCAN_COUNT);
        cursor = next;
        for (const key of keys) {
          const match = LEASE_KEY.exec(key);
          if (!match || found.size >= MAX_TRACKED_SERVICES) continue;
          found.set(keyOf(match[1]!, match[2]!), { ns: match[1]!, svc: match[2]! });
        }
      } while (cursor !== '0');
    }
    for (const [key, service] of this.#recent) {
      if (found.size < MAX_TRACKED_SERVICES) found.set(key, service);
    }
    this.#services.clear();
    for (const [key, service] of found) this.#services.set(key, service);
    this.#full = found.size >= MAX_TRACKED_SERVICES;
    this.#lastDiscovery = performance.now();
  }
}
