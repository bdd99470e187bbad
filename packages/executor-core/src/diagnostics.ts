/**
 * Every diagnostics channel the executor publishes on, and the type of each payload.
 * Subscribe with `node:diagnostics_channel`; with no subscriber an operation pays one
 * `hasSubscribers` check. Payloads carry names, counts, codes and timings, never user values
 * (no ids, states or script arguments).
 *
 * @example
 * import diagnostics from 'node:diagnostics_channel';
 * import { CHANNELS, type OperationMessage } from '@stateful-route/executor-core';
 * diagnostics.tracingChannel(CHANNELS.operation).subscribe({
 *   asyncEnd(message) { const m = message as OperationMessage; console.log(m.operation, m.duration) },
 *   start() {}, end() {}, asyncStart() {}, error() {},
 * });
 */
// Named imports: a default import would appear in the published declarations, which TypeScript
// then refuses in CommonJS projects without esModuleInterop (TS1192).
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { ErrorCode, ErrorType } from './errors.js';
import { StatefulRouteError } from './errors.js';
import type { BackendKind, ExecutorDescription, ExecutorStats, OperationName } from './executor.js';
import type { CacheHitSink, ExecutorTelemetry, OperationRecord } from './telemetry/telemetry.js';

/** Channel names. The operation channel is a tracing channel (start/end/asyncStart/asyncEnd/error). */
export const CHANNELS = {
  /** Tracing channel around every operation; payload `OperationMessage`. */
  operation: 'stateful-route:executor:operation',
  /** A script was loaded into a Redis node's script cache; payload `ScriptLoadMessage`. */
  scriptLoad: 'stateful-route:executor:script-load',
  /** Redis answered NOSCRIPT and the script was sent again; payload `NoscriptMessage`. */
  noscript: 'stateful-route:executor:noscript',
  /** A connection changed state; payload `ConnectionMessage`. */
  connection: 'stateful-route:executor:connection',
  /** An executor was created; payload `ExecutorLifecycleMessage`. */
  create: 'stateful-route:executor:create',
  /** An executor was closed; payload `ExecutorLifecycleMessage`. */
  close: 'stateful-route:executor:close',
} as const;

/**
 * The context object of one operation. The same object is published on `start`, `end`,
 * `asyncStart`, `asyncEnd` and (on failure) `error`, as a TracingChannel does; `duration`
 * and the error fields are filled in before `error`/`asyncStart`/`asyncEnd`.
 */
export class OperationMessage implements CacheHitSink {
  /** `performance.now()` when the call started (ms). */
  readonly startTime: number;
  /** Elapsed ms, set when the call settles (0 before). */
  duration = 0;
  /** The typed error when the call failed. */
  error: StatefulRouteError | undefined = undefined;
  errorCode: ErrorCode | undefined = undefined;
  errorType: ErrorType | undefined = undefined;
  /** True when the result came from the near cache without a Redis round trip. */
  cached = false;
  constructor(
    readonly operation: OperationName,
    readonly executor: string,
    readonly backend: BackendKind,
    /** Number of uids or services in a batch call; 1 otherwise. */
    readonly items: number,
  ) {
    this.startTime = performance.now();
  }

  /** @internal The executor marks a near-cache hit. */
  markCached(): void {
    this.cached = true;
  }
}

/** Payload of `CHANNELS.scriptLoad`. */
export interface ScriptLoadMessage {
  executor: string;
  /** Script name, e.g. `set-linked-pod`. */
  script: string;
  sha: string;
  /** `host:port` of the node that loaded it. */
  node: string;
  durationMs: number;
}

/** Payload of `CHANNELS.noscript`. */
export interface NoscriptMessage {
  executor: string;
  script: string;
  sha: string;
}

/** Connection states, as ioredis reports them. */
export type ConnectionState = 'connect' | 'ready' | 'error' | 'close' | 'reconnecting' | 'end';

/**
 * Every `ConnectionState`, in the order of a connection's life: the ioredis events the
 * executor listens to, and the `status` values of the `redis_connection_status` metric.
 */
export const CONNECTION_STATES: readonly ConnectionState[] = Object.freeze([
  'connect',
  'ready',
  'error',
  'close',
  'reconnecting',
  'end',
] as const);

/** Payload of `CHANNELS.connection`. */
export interface ConnectionMessage {
  executor: string;
  state: ConnectionState;
  /** Which connection of the executor: `main`, `pool-1`, `invalidation`, ... */
  connection: string;
  /** The error code of the client error, for `error` (never its message). */
  errorCode?: string;
}

/** Payload of `CHANNELS.create` and `CHANNELS.close`. */
export interface ExecutorLifecycleMessage {
  executor: string;
  description: ExecutorDescription;
  /** Reads the executor's counters (cheap). */
  stats: () => ExecutorStats;
  /** What the executor records of its calls, for consumers to attach to and read. */
  telemetry: ExecutorTelemetry;
}

/** The tracing channel of operations. */
export const operationChannel = tracingChannel<OperationMessage, OperationMessage>(
  CHANNELS.operation,
);
export const scriptLoadChannel = channel(CHANNELS.scriptLoad);
export const noscriptChannel = channel(CHANNELS.noscript);
export const connectionChannel = channel(CHANNELS.connection);
export const createChannel = channel(CHANNELS.create);
export const closeChannel = channel(CHANNELS.close);

/**
 * Runs `call` inside the operation tracing channel. Only called when the channel has
 * subscribers; the fast path (no subscriber) never builds a message. When the executor's
 * telemetry is recording, the call is recorded from the message's clock pair too.
 * @internal
 */
export function traceOperation<T>(
  message: OperationMessage,
  call: () => Promise<T>,
  telemetry: ExecutorTelemetry,
  record: OperationRecord,
): Promise<T> {
  const { start, end, asyncStart, asyncEnd, error } = operationChannel;
  const recording = telemetry.recording;
  if (recording) record.inFlight += 1;
  start.publish(message);
  let promise: Promise<T>;
  try {
    promise = call();
  } catch (thrown) {
    // Operations are async and never throw synchronously; keep the contract anyway.
    promise = Promise.reject(thrown);
  }
  end.publish(message);
  return promise.then(
    (value) => {
      message.duration = performance.now() - message.startTime;
      if (recording) {
        if (message.cached) record.cached += 1;
        telemetry.settle(record, message.duration, false, undefined);
      }
      asyncStart.publish(message);
      asyncEnd.publish(message);
      return value;
    },
    (thrown: unknown) => {
      message.duration = performance.now() - message.startTime;
      if (thrown instanceof StatefulRouteError) {
        message.error = thrown;
        message.errorCode = thrown.code;
        message.errorType = thrown.errorType;
      } else {
        message.errorType = 'other';
      }
      if (recording) telemetry.settle(record, message.duration, true, thrown);
      error.publish(message);
      asyncStart.publish(message);
      asyncEnd.publish(message);
      throw thrown;
    },
  );
}
