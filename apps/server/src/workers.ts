/**
 * `--workers N`: the bin's process becomes a node:cluster primary that serves no HTTP
 * itself. It forks N workers that each run the whole server with the same configuration on
 * the shared port, answers their `/metrics` scrapes for all of them (cluster-metrics.ts),
 * restarts a worker that dies (with a backoff), gives up when workers keep failing to start,
 * and on SIGTERM or SIGINT stops every worker gracefully and exits once they are gone.
 */
import cluster, { type Worker } from 'node:cluster';
import { pino, type Logger } from 'pino';
import { serveClusterMetrics, WORKER_ENV } from './cluster-metrics.js';
import type { ServerConfig } from './config.js';

/**
 * Workers that exit before they listen, in a row, after which the primary stops and exits 1
 * (a port in use, a crash at start-up): restarting them would only repeat the failure.
 */
export const START_FAILURE_LIMIT = 3;
/** First restart delay after a crash; it doubles with each crash within `CRASH_WINDOW_MS`. */
export const RESTART_DELAY_MS = 250;
/** Longest restart delay. */
export const MAX_RESTART_DELAY_MS = 10_000;
/** Crashes further apart than this do not lengthen the restart delay. */
const CRASH_WINDOW_MS = 60_000;

/** Options of `runPrimary`. */
export interface PrimaryOptions {
  /** How long the workers get to drain after a signal (each has its own grace period too). */
  graceMs: number;
}

/**
 * Runs the primary until it stops: resolves with the exit code (0 after a graceful stop of
 * every worker, 1 when workers keep failing to start, when one fails to stop within the
 * grace period, or on a second signal).
 */
export function runPrimary(config: ServerConfig, options: PrimaryOptions): Promise<number> {
  // Synchronous writes: the primary exits right after its last line.
  const log = pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: true }));
  return new Promise<number>((resolve) => new Primary(config, options, log, resolve).start());
}

class Primary {
  readonly #config: ServerConfig;
  readonly #graceMs: number;
  readonly #log: Logger;
  readonly #done: (code: number) => void;
  /** Worker slot (1..N, stable across restarts) of each live worker. */
  readonly #slots = new Map<Worker, number>();
  readonly #listening = new Set<Worker>();
  readonly #restarts = new Set<NodeJS.Timeout>();
  #startFailures = 0;
  #crashTimes: number[] = [];
  #stopping = false;
  #finished = false;
  #exitCode = 0;
  #stopMetrics: () => void = () => {};

  constructor(
    config: ServerConfig,
    options: PrimaryOptions,
    log: Logger,
    done: (code: number) => void,
  ) {
    this.#config = config;
    this.#graceMs = options.graceMs;
    this.#log = log;
    this.#done = done;
  }

  start(): void {
    this.#log.info(
      `starting ${this.#config.workers} workers on ${this.#config.host}:${this.#config.port}`,
    );
    this.#stopMetrics = serveClusterMetrics(() => this.#listening);
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
    for (let slot = 1; slot <= this.#config.workers; slot++) this.#fork(slot);
  }

  #fork(slot: number): void {
    const worker = cluster.fork({ [WORKER_ENV]: String(slot) });
    this.#slots.set(worker, slot);
    worker.once('listening', () => {
      this.#listening.add(worker);
      this.#startFailures = 0;
      this.#log.info({ worker: slot, workerPid: worker.process.pid }, `worker ${slot} serving`);
    });
    worker.once('exit', (code, signal) => this.#onExit(worker, slot, code, signal));
  }

  #onExit(worker: Worker, slot: number, code: number | null, signal: string | null): void {
    const served = this.#listening.delete(worker);
    this.#slots.delete(worker);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const fields = { worker: slot, workerPid: worker.process.pid, code, signal };
    if (this.#stopping) {
      // A worker interrupted by the signal before it could install its own handler is fine.
      const clean = code === 0 || signal === 'SIGTERM' || signal === 'SIGINT';
      if (!clean) this.#exitCode = 1;
      this.#log[clean ? 'info' : 'error'](fields, `worker ${slot} stopped (${how})`);
      if (this.#slots.size === 0) this.#finish();
      return;
    }
    if (!served) {
      this.#startFailures++;
      if (this.#startFailures >= START_FAILURE_LIMIT) {
        this.#log.error(
          fields,
          `worker ${slot} exited with ${how} before serving; ${this.#startFailures} workers in a row failed to start (see their error above): stopping`,
        );
        this.#exitCode = 1;
        this.#stop();
        return;
      }
    }
    const now = Date.now();
    this.#crashTimes = [...this.#crashTimes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const delay = Math.min(
      MAX_RESTART_DELAY_MS,
      RESTART_DELAY_MS * 2 ** (this.#crashTimes.length - 1),
    );
    this.#log.error(
      { ...fields, restartInMs: delay },
      `worker ${slot} exited unexpectedly with ${how}${served ? '' : ' before serving'}; restarting it in ${delay} ms`,
    );
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      this.#fork(slot);
    }, delay);
    this.#restarts.add(timer);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#stopping) {
      this.#log.warn({ signal }, 'second signal during shutdown: killing the workers, exiting now');
      for (const worker of this.#slots.keys()) worker.process.kill('SIGKILL');
      this.#exitCode = 1;
      this.#finish();
      return;
    }
    this.#log.info({ signal }, 'shutting down: stopping every worker gracefully');
    this.#stop();
  };

  #stop(): void {
    this.#stopping = true;
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    if (this.#slots.size === 0) {
      this.#finish();
      return;
    }
    // The workers drain on SIGTERM as a single server does (main.ts).
    for (const worker of this.#slots.keys()) worker.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.#log.error(`workers still running ${this.#graceMs} ms after SIGTERM: killing them`);
      for (const worker of this.#slots.keys()) worker.process.kill('SIGKILL');
      this.#exitCode = 1;
      this.#finish();
    }, this.#graceMs);
    timer.unref();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopMetrics();
    if (this.#exitCode === 0) this.#log.info('all workers stopped: shut down cleanly');
    this.#done(this.#exitCode);
  }
}
