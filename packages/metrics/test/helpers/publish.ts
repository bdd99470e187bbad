/**
 * Publishes hand-made operation messages on the executor's tracing channel, the way
 * executor-core does, so that durations and error types are exactly known.
 */
import diagnostics from 'node:diagnostics_channel';
import {
  CHANNELS,
  OperationMessage,
  type ErrorType,
  type OperationName,
} from '@stateful-route/executor-core';

const operation = diagnostics.tracingChannel<OperationMessage, OperationMessage>(
  CHANNELS.operation,
);

export function publishOperation(options: {
  operation?: OperationName;
  executor?: string;
  durationMs: number;
  errorType?: ErrorType;
}): void {
  const message = new OperationMessage(
    options.operation ?? 'getLinkedPod',
    options.executor ?? 'synthetic',
    'memory',
    1,
  );
  operation.start.publish(message);
  operation.end.publish(message);
  message.duration = options.durationMs;
  message.errorType = options.errorType;
  if (options.errorType) operation.error.publish(message);
  operation.asyncStart.publish(message);
  operation.asyncEnd.publish(message);
}
