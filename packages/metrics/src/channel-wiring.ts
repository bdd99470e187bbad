/**
 * The rare events `instrumentExecutor()` hears on executor-core's diagnostics channels
 * (script loads, NOSCRIPT reloads, connection states, executors created and closed),
 * subscribed by name (channels.ts) and handed to an `Instrumentation`.
 */
import diagnostics from 'node:diagnostics_channel';
import type {
  ConnectionMessage,
  ExecutorLifecycleMessage,
  NoscriptMessage,
  ScriptLoadMessage,
} from '@stateful-route/executor-core';
import { CHANNELS as EXECUTOR_CHANNELS } from '@stateful-route/executor-core';
import type { Instrumentation } from './instrumentation.js';

/** Subscribes `instrumentation` to the point channels; returns the unsubscribe function. */
export function subscribeChannels(instrumentation: Instrumentation): () => void {
  const onScriptLoad = (message: unknown): void => {
    const m = message as ScriptLoadMessage;
    if (instrumentation.accepts(m.executor)) instrumentation.scriptLoaded(m.executor);
  };
  const onNoscript = (message: unknown): void => {
    const m = message as NoscriptMessage;
    if (instrumentation.accepts(m.executor)) instrumentation.noscriptReloaded(m.executor);
  };
  const onConnection = (message: unknown): void => {
    const m = message as ConnectionMessage;
    if (instrumentation.accepts(m.executor)) {
      instrumentation.connectionState(m.executor, m.connection, m.state);
    }
  };
  const onCreate = (message: unknown): void => {
    const m = message as ExecutorLifecycleMessage;
    if (!instrumentation.accepts(m.executor)) return;
    instrumentation.trackExecutor(m.executor, m.stats);
    if (m.telemetry) instrumentation.watch(m.telemetry);
  };
  const onClose = (message: unknown): void => {
    const m = message as ExecutorLifecycleMessage;
    if (!instrumentation.accepts(m.executor)) return;
    instrumentation.forgetExecutor(m.executor);
    if (m.telemetry) instrumentation.retire(m.telemetry);
  };

  const subscriptions: [diagnostics.Channel, (message: unknown) => void][] = [
    [diagnostics.channel(EXECUTOR_CHANNELS.scriptLoad), onScriptLoad],
    [diagnostics.channel(EXECUTOR_CHANNELS.noscript), onNoscript],
    [diagnostics.channel(EXECUTOR_CHANNELS.connection), onConnection],
    [diagnostics.channel(EXECUTOR_CHANNELS.create), onCreate],
    [diagnostics.channel(EXECUTOR_CHANNELS.close), onClose],
  ];
  for (const [channel, handler] of subscriptions) channel.subscribe(handler);
  return () => {
    for (const [channel, handler] of subscriptions) channel.unsubscribe(handler);
  };
}
