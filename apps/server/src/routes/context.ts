/**
 * What every route module receives: the executor and the configuration.
 */
import type { StatefulExecutor } from '@stateful-route/executor-core';
import type { ServerConfig } from '../config.js';

/** Dependencies of the route modules. */
export interface RouteContext {
  executor: StatefulExecutor;
  config: ServerConfig;
}
