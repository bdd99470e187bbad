/**
 * Whether the backend is failing, as the requests see it, so that an outage is logged once
 * per state change instead of once per request. The error handler reports every request that
 * failed because the backend is unavailable (503: connection, timeout, credentials, cluster,
 * busy, closed; 507: out of memory). The first failure logs one warn line, and each further
 * code that joins the same episode one more; the episode ends, with one info line, at the
 * first executor call that succeeds on Redis at least `RECOVERY_QUIET_MS` after the last
 * failure. The quiet period keeps partial outages (writes refused while reads work, some calls
 * timing out) from flapping between the two lines on every request.
 */
import diagnostics from 'node:diagnostics_channel';
import { CHANNELS, type OperationMessage } from '@stateful-route/executor-core';
import type { FastifyBaseLogger } from 'fastify';

/** How long no call may fail before a successful one ends a failing episode. */
export const RECOVERY_QUIET_MS = 1000;

// The settled end of every executor operation (the operation channel is a tracing channel).
const OPERATION_END = `tracing:${CHANNELS.operation}:asyncEnd`;

/** One server's view of its backend; `failed()` from the error handler, `close()` on shutdown. */
export class BackendAvailability {
  readonly #log: FastifyBaseLogger;
  readonly #executor: string;
  readonly #quietMs: number;
  #failing = false;
  #closed = false;
  /** Codes already logged in this episode. */
  readonly #codes = new Set<string>();
  #since = 0;
  #lastFailure = 0;
  #failures = 0;

  /**
   * @param executor the name of the executor whose successes end an episode (operation
   * messages carry the name, not the instance: executors sharing a name share the signal)
   */
  constructor(log: FastifyBaseLogger, executor: string, quietMs = RECOVERY_QUIET_MS) {
    this.#log = log;
    this.#executor = executor;
    this.#quietMs = quietMs;
  }

  /** A request failed because the backend is unavailable. Logs only a state change. */
  failed(code: string, reason: string, reqId: string): void {
    const now = Date.now();
    this.#lastFailure = now;
    this.#failures++;
    if (!this.#failing) {
      this.#failing = true;
      this.#since = now;
      // Only while failing: a healthy server pays nothing for this watch.
      if (!this.#closed) diagnostics.subscribe(OPERATION_END, this.#onOperationEnd);
    }
    if (this.#codes.has(code)) return;
    this.#codes.add(code);
    // Further failures are not logged until 'backend available again'.
    this.#log.warn({ reqId, code, reason }, 'backend unavailable');
  }

  /** Stops watching for good (the app is closing; requests still failing are logged). */
  close(): void {
    this.#closed = true;
    diagnostics.unsubscribe(OPERATION_END, this.#onOperationEnd);
  }

  readonly #onOperationEnd = (message: unknown): void => {
    const m = message as OperationMessage;
    // A near-cache hit proves nothing about Redis; a failure is the error handler's to count.
    if (m.errorType !== undefined || m.cached || m.executor !== this.#executor) return;
    const now = Date.now();
    if (!this.#failing || now - this.#lastFailure < this.#quietMs) return;
    diagnostics.unsubscribe(OPERATION_END, this.#onOperationEnd);
    this.#log.info(
      {
        codes: [...this.#codes],
        failedRequests: this.#failures,
        unavailableMs: this.#lastFailure - this.#since,
      },
      'backend available again',
    );
    this.#failing = false;
    this.#codes.clear();
    this.#failures = 0;
  };
}
