/**
 * A metric object registered on a prom-client `Registry` whose values are produced at scrape
 * time by its members (one per `instrumentExecutor()` call sharing the name). prom-client's
 * registry only needs `name`, `help`, `type`, `aggregator`, `get()` and `reset()`, so the
 * hot path never touches a prom-client object.
 */
import type { Registry, RegistryContentType } from 'prom-client';
import { MetricsConflictError } from './errors.js';

/** One sample, in the shape prom-client's registry formats. */
export interface Sample {
  value: number;
  labels: Record<string, string>;
  /** Set for histogram series (`_bucket`, `_sum`, `_count`); absent for counters and gauges. */
  metricName?: string;
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Produces the samples of one family for one instrumentation. */
export interface FamilyMember {
  /** Pushes samples into `out`; may be async (Redis INFO). `name` is the family's current name. */
  collect(kind: string, name: string, out: Sample[]): void | Promise<void>;
  reset(kind: string): void;
  /** What makes members compatible: label scheme, buckets, executor. */
  readonly shareKey: string;
  /** The executor this member is restricted to, when it is labelled and filtered. */
  readonly shareExecutor: string | undefined;
}

/** The registry-facing object; see the file comment. */
export class MetricFamily {
  readonly aggregator = 'sum';
  readonly members = new Set<FamilyMember>();
  /** The key in the registry (prom-client may rename `name` for OpenMetrics counters). */
  readonly key: string;
  constructor(
    public name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly kind: string,
  ) {
    this.key = name;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: MetricType;
    aggregator: string;
    values: Sample[];
  }> {
    const values: Sample[] = [];
    const pending: Promise<void>[] = [];
    for (const member of this.members) {
      const result = member.collect(this.kind, this.name, values);
      if (result !== undefined) pending.push(result);
    }
    if (pending.length > 0) await Promise.all(pending);
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    for (const member of this.members) member.reset(this.kind);
  }
}

/** What a member needs registered. */
export interface FamilySpec {
  name: string;
  help: string;
  type: MetricType;
  kind: string;
}

/**
 * Checks that every family can be created or joined, then does it (all or nothing).
 * Joining is allowed only between members that all carry an `executor` label restricted to
 * distinct executors and agree on everything else (same `shareKey`): anything else would
 * expose the same series twice.
 * @throws SR_METRICS_CONFLICT
 */
export function registerFamilies(
  registry: Registry<RegistryContentType>,
  specs: readonly FamilySpec[],
  member: FamilyMember,
): MetricFamily[] {
  const plan: { spec: FamilySpec; existing: MetricFamily | undefined }[] = [];
  for (const spec of specs) {
    const existing = (registry as unknown as RegistryLike).getSingleMetric(spec.name);
    if (existing === undefined) {
      plan.push({ spec, existing: undefined });
      continue;
    }
    if (!(existing instanceof MetricFamily) || existing.kind !== spec.kind) {
      throw new MetricsConflictError(
        spec.name,
        'a metric with this name is already registered; choose another prefix',
      );
    }
    for (const other of existing.members) {
      if (
        member.shareExecutor === undefined ||
        other.shareExecutor === undefined ||
        other.shareKey !== member.shareKey
      ) {
        throw new MetricsConflictError(
          spec.name,
          'already registered by another instrumentation; give each one a distinct prefix, ' +
            'or executorLabel: true with distinct executor names and the same buckets',
        );
      }
      if (other.shareExecutor === member.shareExecutor) {
        throw new MetricsConflictError(
          spec.name,
          `executor "${member.shareExecutor}" is already instrumented on this registry`,
        );
      }
    }
    plan.push({ spec, existing });
  }
  return plan.map(({ spec, existing }) => {
    let family = existing;
    if (family === undefined) {
      family = new MetricFamily(spec.name, spec.help, spec.type, spec.kind);
      (registry as unknown as RegistryLike).registerMetric(family);
    }
    family.members.add(member);
    return family;
  });
}

/** Leaves the families; a family left empty is removed from the registry. */
export function unregisterFamilies(
  registry: Registry<RegistryContentType>,
  families: readonly MetricFamily[],
  member: FamilyMember,
): void {
  const like = registry as unknown as RegistryLike;
  for (const family of families) {
    family.members.delete(member);
    if (family.members.size === 0 && like.getSingleMetric(family.key) === family) {
      like.removeSingleMetric(family.key);
    }
  }
}

/** The part of prom-client's Registry used here, typed loosely: our objects are not prom-client classes. */
interface RegistryLike {
  getSingleMetric(name: string): unknown;
  registerMetric(metric: unknown): void;
  removeSingleMetric(name: string): void;
}
