/**
 * The options of `instrumentExecutor()`, their defaults and their checks: run before
 * anything is registered or subscribed, so a wrong option is a typed error naming it and
 * nothing is left behind.
 */
import { DEFAULT_METRIC_PREFIX, type StatefulExecutor } from '@stateful-route/executor-core';
import type { Cluster, Redis } from 'ioredis';
import type { Registry, RegistryContentType } from 'prom-client';
import { MetricsOptionsError } from './errors.js';

/** The metric name prefix used when none is given (executor-core's `DEFAULT_METRIC_PREFIX`). */
export const DEFAULT_PREFIX = DEFAULT_METRIC_PREFIX;

/**
 * Default buckets of the duration histogram, in seconds: 50 µs to 10 s, so that Redis round
 * trips (usually 0.1 to 1 ms) spread over several buckets instead of all landing in the first.
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
]);

/** Options of `instrumentExecutor()`. */
export interface InstrumentOptions {
  /** The prom-client registry to register on. Required: the global one is never assumed. */
  registry: Registry<RegistryContentType>;
  /** Count only the events of the executor with this name. Default: every executor. */
  executor?: string;
  /**
   * Add an `executor` label (the executor's name) to every metric, so that several executors,
   * or several instrumentations each with its own `executor`, can share a registry.
   * Default false.
   */
  executorLabel?: boolean;
  /** Metric name prefix. Default `stateful_executor_`. */
  prefix?: string;
  /** Upper bounds of the duration histogram, in seconds, increasing. Default `DEFAULT_BUCKETS`. */
  buckets?: readonly number[];
  /**
   * An executor created before this call: its `create` event was missed, so its script-cache
   * counters and connection state are read from the instance instead.
   */
  executorInstance?: StatefulExecutor;
  /** When given, a few Redis `INFO` figures are read at scrape time (per master on a Cluster). */
  redis?: Redis | Cluster;
  /** How long `INFO` figures are reused before Redis is asked again, ms. Default 5000. */
  infoCacheMs?: number;
  /**
   * The longest a scrape waits for `INFO`, ms; past it the cached figures are served and
   * `redis_info_errors_total` counts the miss. Default 250.
   */
  infoTimeoutMs?: number;
  /**
   * `stateful_route_build_info{version, node_version} 1` on the registry. `version` defaults
   * to this package's version; an application passes its own (the server passes its
   * version). `false` registers nothing. Shared by the instrumentations of one registry.
   * Default `{}`.
   */
  buildInfo?: { version?: string } | false;
}

const PREFIX_PATTERN = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

// Duck-typed: the application's prom-client, executor or ioredis may be another copy than ours.
function hasMethods(value: unknown, ...names: string[]): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

/**
 * Checks every option of `instrumentExecutor()`.
 * @throws SR_METRICS_OPTIONS naming the first wrong option
 */
export function checkOptions(options: InstrumentOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new MetricsOptionsError('options', 'must be an object');
  }
  if (!hasMethods(options.registry, 'registerMetric', 'getSingleMetric')) {
    throw new MetricsOptionsError('registry', 'must be a prom-client Registry');
  }
  if (
    options.executor !== undefined &&
    (typeof options.executor !== 'string' || !options.executor)
  ) {
    throw new MetricsOptionsError('executor', 'must be a non-empty string');
  }
  if (options.executorLabel !== undefined && typeof options.executorLabel !== 'boolean') {
    throw new MetricsOptionsError('executorLabel', 'must be a boolean');
  }
  if (
    options.prefix !== undefined &&
    (typeof options.prefix !== 'string' || !PREFIX_PATTERN.test(options.prefix))
  ) {
    throw new MetricsOptionsError('prefix', 'must match [a-zA-Z_:][a-zA-Z0-9_:]*');
  }
  const buckets = options.buckets;
  if (buckets !== undefined) {
    if (!Array.isArray(buckets) || buckets.length === 0) {
      throw new MetricsOptionsError('buckets', 'must be a non-empty array of seconds');
    }
    buckets.forEach((bound: unknown, i) => {
      if (!isFiniteNumber(bound)) {
        throw new MetricsOptionsError('buckets', 'must hold finite numbers (+Inf is implied)');
      }
      if (i > 0 && bound <= buckets[i - 1]!) {
        throw new MetricsOptionsError('buckets', 'must be strictly increasing');
      }
    });
  }
  const instance: unknown = options.executorInstance;
  if (instance !== undefined) {
    if (!hasMethods(instance, 'stats') || typeof instance.name !== 'string') {
      throw new MetricsOptionsError('executorInstance', 'must be a StatefulExecutor');
    }
    if (options.executor !== undefined && instance.name !== options.executor) {
      throw new MetricsOptionsError(
        'executorInstance',
        `is named "${instance.name}" but executor is "${options.executor}"`,
      );
    }
  }
  if (options.redis !== undefined && !hasMethods(options.redis, 'info')) {
    throw new MetricsOptionsError('redis', 'must be an ioredis Redis or Cluster client');
  }
  if (
    options.infoCacheMs !== undefined &&
    !(isFiniteNumber(options.infoCacheMs) && options.infoCacheMs >= 0)
  ) {
    throw new MetricsOptionsError('infoCacheMs', 'must be a finite number >= 0');
  }
  const buildInfo: unknown = options.buildInfo;
  if (buildInfo !== undefined && buildInfo !== false) {
    if (typeof buildInfo !== 'object' || buildInfo === null || Array.isArray(buildInfo)) {
      throw new MetricsOptionsError('buildInfo', 'must be false or { version?: string }');
    }
    const version: unknown = (buildInfo as { version?: unknown }).version;
    if (version !== undefined && (typeof version !== 'string' || version.trim() === '')) {
      throw new MetricsOptionsError('buildInfo', 'version must be a non-empty string');
    }
  }
  if (
    options.infoTimeoutMs !== undefined &&
    !(isFiniteNumber(options.infoTimeoutMs) && options.infoTimeoutMs > 0)
  ) {
    throw new MetricsOptionsError('infoTimeoutMs', 'must be a finite number > 0');
  }
}
