/**
 * Records hand-made calls into the telemetry of a synthetic executor, the way executor-core
 * records a call, so that durations and error types are exactly known. The synthetic
 * executor is announced like a real one (the live set and the create channel), once per name.
 */
import diagnostics from 'node:diagnostics_channel';
import {
  CHANNELS,
  ConnectionError,
  ErrorCodes,
  ExecutorTelemetry,
  LIVE_TELEMETRY_KEY,
  NoCapacityError,
  RedisReplyError,
  ScriptError,
  TimeoutError,
  ValidationError,
  type ErrorType,
  type ExecutorLifecycleMessage,
  type OperationName,
  ZERO_EXECUTOR_STATS,
} from '@stateful-route/executor-core';

const synthetic = new Map<string, ExecutorTelemetry>();

function telemetryOf(name: string): ExecutorTelemetry {
  let telemetry = synthetic.get(name);
  if (!telemetry) {
    telemetry = new ExecutorTelemetry(name);
    synthetic.set(name, telemetry);
    const holder = globalThis as { [LIVE_TELEMETRY_KEY]?: Set<ExecutorTelemetry> };
    (holder[LIVE_TELEMETRY_KEY] ??= new Set()).add(telemetry);
    const message: ExecutorLifecycleMessage = {
      executor: name,
      description: {
        name,
        backend: 'memory',
        topology: 'embedded',
        scriptTransport: null,
        autoPipelining: null,
        connections: 0,
        nearCache: null,
      },
      stats: () => ({ ...ZERO_EXECUTOR_STATS }),
      telemetry,
    };
    diagnostics.channel(CHANNELS.create).publish(message);
  }
  return telemetry;
}

function errorOf(type: ErrorType): Error {
  switch (type) {
    case 'validation':
      return new ValidationError('uid', 'blank', 'must not be blank');
    case 'capacity':
      return new NoCapacityError();
    case 'connection':
      return new ConnectionError('down');
    case 'timeout':
      return new TimeoutError('slow');
    case 'script':
      return new ScriptError('set-linked-pod', 'ERR', 'failed');
    case 'cluster':
      return new RedisReplyError(ErrorCodes.CLUSTER, 'CROSSSLOT', 'crossslot');
    default:
      return new Error('other');
  }
}

export function publishOperation(options: {
  operation?: OperationName;
  executor?: string;
  durationMs: number;
  errorType?: ErrorType;
}): void {
  const telemetry = telemetryOf(options.executor ?? 'synthetic');
  const record = telemetry.record(options.operation ?? 'getLinkedPod');
  if (!telemetry.recording) return; // nobody watches: a real executor records nothing either
  record.inFlight += 1;
  const failed = options.errorType !== undefined;
  telemetry.settle(
    record,
    options.durationMs,
    failed,
    failed ? errorOf(options.errorType!) : undefined,
  );
}
