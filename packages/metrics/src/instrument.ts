/**
 * `instrumentExecutor()`: exposes what the executors record of their calls (executor-core's
 * `ExecutorTelemetry`), and what their diagnostics channels report of connections and
 * scripts, as Prometheus metrics on the registry it is given.
 *
 * Nothing runs per call here: the executor records each call once, into preallocated state
 * every consumer shares, and custom metric objects (metric-family.ts) read that state at
 * scrape time (instrumentation.ts, operation-stats.ts). The channels carry only rare events
 * (channel-wiring.ts). The options are checked in options.ts, the families listed in
 * family-specs.ts; `stateful_route_build_info` is build-info.ts.
 */
import { liveTelemetry, type TunableExecutor } from '@stateful-route/executor-core';
import { checkBuildInfo, joinBuildInfo, metricsPackageVersion } from './build-info.js';
import { subscribeChannels } from './channel-wiring.js';
import { familySpecs } from './family-specs.js';
import { Instrumentation } from './instrumentation.js';
import { registerFamilies, unregisterFamilies, type MetricFamily } from './metric-family.js';
import { checkOptions, DEFAULT_PREFIX, type InstrumentOptions } from './options.js';

/**
 * Exposes an executor's diagnostics as Prometheus metrics on `options.registry` and returns a
 * function that unsubscribes and removes those metrics again. Call it before creating the
 * executor, or pass `executorInstance`, so that script-cache ratios and connection state are
 * known from the start. Nothing runs per call: the executor records each call once (its
 * telemetry, shared with the analyzer), and the figures are read when the registry is
 * scraped.
 *
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const dispose = instrumentExecutor({ registry, redis });
 * const executor = createRedisExecutor({ redis });
 * // ... registry.metrics() in the /metrics route; dispose() on shutdown
 * @throws SR_METRICS_OPTIONS when an option is invalid
 * @throws SR_METRICS_CONFLICT when a metric name is already taken on the registry
 */
export function instrumentExecutor(options: InstrumentOptions): () => void {
  checkOptions(options);
  const registry = options.registry;
  const buildInfo = options.buildInfo ?? {};
  if (buildInfo !== false) checkBuildInfo(registry);
  const instrumentation = new Instrumentation(options);
  const families: MetricFamily[] = registerFamilies(
    registry,
    familySpecs(options.prefix ?? DEFAULT_PREFIX, options.redis !== undefined),
    instrumentation,
  );
  const leaveBuildInfo =
    buildInfo === false
      ? undefined
      : joinBuildInfo(registry, buildInfo.version ?? metricsPackageVersion());

  const instance = options.executorInstance;
  if (instance !== undefined) {
    instrumentation.trackExecutor(instance.name, () => instance.stats());
    // A TunableExecutor (the Redis backend) says what state each of its connections is in.
    const states = (instance as Partial<TunableExecutor>).connectionStates;
    if (states !== undefined) {
      for (const { connection, state } of states) {
        instrumentation.connectionState(instance.name, connection, state);
      }
    }
  }

  // ---- what the executors record: read at scrape, nothing per call --------------------
  if (instance !== undefined) instrumentation.watch(instance.telemetry);
  for (const telemetry of liveTelemetry()) instrumentation.watch(telemetry);

  // ---- point channels: rare events ---------------------------------------------------
  const unsubscribe = subscribeChannels(instrumentation);

  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    unsubscribe();
    instrumentation.releaseTelemetry();
    instrumentation.disposeReader();
    unregisterFamilies(registry, families, instrumentation);
    leaveBuildInfo?.();
  };
}
