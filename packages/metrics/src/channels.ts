/**
 * The executor's diagnostics channel names. They are repeated here instead of importing
 * executor-core's `CHANNELS` value: channels are global by name, so subscribing by name works
 * even when the application loads another copy (or version) of executor-core, and this
 * package never loads executor-core at run time. A test checks that the names still match.
 */
export const EXECUTOR_CHANNELS = {
  operation: 'stateful-route:executor:operation',
  scriptLoad: 'stateful-route:executor:script-load',
  noscript: 'stateful-route:executor:noscript',
  connection: 'stateful-route:executor:connection',
  create: 'stateful-route:executor:create',
  close: 'stateful-route:executor:close',
} as const;
