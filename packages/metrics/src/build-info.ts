/**
 * `stateful_route_build_info{version, node_version} 1`: which stateful-route release and which
 * Node.js a process runs, for dashboards and for joining onto other series
 * (`* on (instance) group_left (version) stateful_route_build_info`). One series per distinct
 * version on a registry, shared by every `instrumentExecutor()` call that registers it and
 * removed when the last of them is disposed.
 */
import { readFileSync } from 'node:fs';
import type { Registry, RegistryContentType } from 'prom-client';
import { MetricsConflictError } from './errors.js';
import type { Sample } from './metric-family.js';

/** The name of the build-info gauge (fixed: the `prefix` option does not apply to it). */
export const BUILD_INFO_METRIC = 'stateful_route_build_info';

let packageVersion: string | undefined;

/**
 * `version` of @stateful-route/metrics (its package.json sits one level above src/ and dist/),
 * or `unknown` when it cannot be read (a bundle that left the file behind).
 */
export function metricsPackageVersion(): string {
  if (packageVersion === undefined) {
    try {
      const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
      const { version } = JSON.parse(text) as { version?: unknown };
      packageVersion = typeof version === 'string' && version !== '' ? version : 'unknown';
    } catch {
      packageVersion = 'unknown';
    }
  }
  return packageVersion;
}

/** The registry-facing gauge; each member is one instrumentation's label set. */
class BuildInfoGauge {
  readonly name = BUILD_INFO_METRIC;
  readonly help =
    'Always 1: the stateful-route version (label version) and the Node.js version (node_version) of this process.';
  readonly type = 'gauge';
  readonly aggregator = 'first';
  readonly members = new Map<object, Record<string, string>>();

  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    const values: Sample[] = [];
    const seen = new Set<string>();
    for (const labels of this.members.values()) {
      const key = `${labels.version}\0${labels.node_version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      values.push({ labels, value: 1 });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    // A level, not a count: nothing to reset.
  }
}

/** The part of prom-client's Registry used here. */
interface RegistryLike {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: unknown): void;
  removeSingleMetric(name: string): void;
}

/**
 * Throws when `stateful_route_build_info` is taken on `registry` by a metric that is not
 * ours, before anything is registered.
 * @throws SR_METRICS_CONFLICT
 */
export function checkBuildInfo(registry: Registry<RegistryContentType>): void {
  const existing = (registry as unknown as RegistryLike).getSingleMetric(BUILD_INFO_METRIC);
  if (existing !== undefined && !(existing instanceof BuildInfoGauge)) {
    throw new MetricsConflictError(
      BUILD_INFO_METRIC,
      'a metric with this name is already registered; pass buildInfo: false',
    );
  }
}

/**
 * Adds the series of `version` (and this process' Node.js version) to the registry's
 * build-info gauge, creating it if needed; returns the function that takes it away again.
 * Call `checkBuildInfo()` first.
 */
export function joinBuildInfo(
  registry: Registry<RegistryContentType>,
  version: string,
): () => void {
  const like = registry as unknown as RegistryLike;
  let gauge = like.getSingleMetric(BUILD_INFO_METRIC) as BuildInfoGauge | undefined;
  if (gauge === undefined) {
    gauge = new BuildInfoGauge();
    like.registerMetric(gauge);
  }
  const token = {};
  gauge.members.set(token, { version, node_version: process.version });
  const joined = gauge;
  return () => {
    joined.members.delete(token);
    if (joined.members.size === 0 && like.getSingleMetric(BUILD_INFO_METRIC) === joined) {
      like.removeSingleMetric(BUILD_INFO_METRIC);
    }
  };
}
